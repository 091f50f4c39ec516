/**
 * A pure function of a string kept by its argument: for the vocabulary tests asked again and again of the
 * same few names and type texts (isContextPrimitive, elementSize). `limit` only keeps a pathological input
 * (a generated file with a million distinct names) from growing it without bound: past it, it starts over.
 */
export function memoByText<V>(limit: number, compute: (text: string) => V): (text: string) => V {
  const known = new Map<string, V>();
  return (text) => {
    if (known.has(text)) return known.get(text) as V;
    const v = compute(text);
    if (known.size >= limit) known.clear();
    known.set(text, v);
    return v;
  };
}
