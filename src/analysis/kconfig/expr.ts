/**
 * Kconfig dependency expressions (Documentation/kbuild/kconfig-language.rst, "Menu dependencies"), parsed
 * lexically: symbols, `!`, `&&`, `||`, parentheses and comparisons. What this module cannot read (a macro
 * such as `$(cc-option,...)`, a string, a syntax error) becomes `unknown`: it never restricts anything.
 */

export type KExpr =
  | { t: 'sym'; name: string }
  | { t: 'not'; e: KExpr }
  | { t: 'and'; a: KExpr; b: KExpr }
  | { t: 'or'; a: KExpr; b: KExpr }
  /** `SYM = y`, `SYM != n`...: only comparisons of a symbol with y/m/n are understood. */
  | { t: 'cmp'; op: string; sym: string; value: string }
  | { t: 'unknown' };

const UNKNOWN: KExpr = { t: 'unknown' };

/** Splits an expression into tokens; a `$(...)` macro (nesting allowed) is one token. */
function tokens(text: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '$' && text[i + 1] === '(') {
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '(') depth++;
        else if (text[j] === ')' && --depth === 0) break;
      }
      if (j >= text.length) return null;
      out.push('$macro');
      i = j + 1;
    } else if (c === '"' || c === "'") {
      const j = text.indexOf(c, i + 1);
      if (j < 0) return null;
      out.push(text.slice(i, j + 1));
      i = j + 1;
    } else {
      const two = text.slice(i, i + 2);
      if (['&&', '||', '!=', '<=', '>='].includes(two)) {
        out.push(two);
        i += 2;
      } else if ('!()=<>'.includes(c)) {
        out.push(c);
        i++;
      } else {
        const m = /^[A-Za-z0-9_.-]+/.exec(text.slice(i));
        if (!m) return null;
        out.push(m[0]);
        i += m[0].length;
      }
    }
  }
  return out;
}

const SYMBOL = /^[A-Za-z0-9_]+$/;

/** Parses a dependency expression; anything it cannot read is `unknown` (never an exception). */
export function parseExpr(text: string): KExpr {
  const toks = tokens(text);
  if (!toks || !toks.length) return UNKNOWN;
  let pos = 0;
  let failed = false;
  const peek = () => toks[pos];
  const or = (): KExpr => {
    let a = and();
    while (peek() === '||') {
      pos++;
      a = { t: 'or', a, b: and() };
    }
    return a;
  };
  const and = (): KExpr => {
    let a = unary();
    while (peek() === '&&') {
      pos++;
      a = { t: 'and', a, b: unary() };
    }
    return a;
  };
  const unary = (): KExpr => {
    if (peek() === '!') {
      pos++;
      return { t: 'not', e: unary() };
    }
    if (peek() === '(') {
      pos++;
      const e = or();
      if (peek() !== ')') failed = true;
      else pos++;
      return e;
    }
    const atom = toks[pos++];
    if (atom === undefined || ['&&', '||', ')', '=', '!=', '<', '>', '<=', '>='].includes(atom)) {
      failed = true;
      return UNKNOWN;
    }
    const op = peek();
    if (op === '=' || op === '!=' || op === '<' || op === '>' || op === '<=' || op === '>=') {
      pos++;
      const value = toks[pos++];
      if (value === undefined) {
        failed = true;
        return UNKNOWN;
      }
      const v = value.replace(/^["']|["']$/g, '');
      if ((op === '=' || op === '!=') && SYMBOL.test(atom) && ['y', 'm', 'n'].includes(v)) return { t: 'cmp', op, sym: atom, value: v };
      return UNKNOWN;
    }
    if (!SYMBOL.test(atom) || ['y', 'm', 'n'].includes(atom)) return UNKNOWN;
    return { t: 'sym', name: atom };
  };
  const e = or();
  return failed || pos !== toks.length ? UNKNOWN : e;
}
