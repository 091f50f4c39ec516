/**
 * The App's one bounded-concurrency helper: `fn` over `items` with at most `limit` calls in flight,
 * results in the items' order. Used for the pull request's file fetches, the tree scan's cache look-ups
 * and blob fetches, and the tree listing's subtrees (level by level, so nesting never multiplies the bound).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Math.min(Math.max(1, Math.floor(limit) || 1), items.length);
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  }));
  return out;
}
