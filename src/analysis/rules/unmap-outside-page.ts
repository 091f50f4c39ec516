import { quote, traceOf } from '../replay/path.js';
import { violationsOf } from '../replay/query.js';
import { PAGE, type Value } from '../replay/values.js';
import type { Rule } from './rule.js';

/** The offset in words: "PAGE_SIZE", "PAGE_SIZE + 8", "up to PAGE_SIZE", "-1". */
function offsetText(v: Value, side: 'after' | 'before'): string {
  const show = (n: number) => (n === PAGE ? 'PAGE_SIZE' : n > PAGE ? `PAGE_SIZE + ${n - PAGE}` : String(n));
  if (side === 'before') return Number.isFinite(v.hi) ? show(v.hi) : 'negative';
  if (v.lo >= PAGE) return v.lo === v.hi ? show(v.lo) : `at least ${show(v.lo)}`;
  return 'up to PAGE_SIZE';
}

export const unmapOutsidePage: Rule = {
  meta: {
    id: 'unmap-outside-page',
    severity: 'error',
    traits: { existingCode: true, cleanupWithoutHighmem: true },
    summary: 'kunmap_local()/kunmap_atomic() is given an address that can lie outside the page that was mapped (a cursor moved past its end).',
    doc: `## What it finds
An unmap whose argument, on some path, is not inside the page its mapping covers: a cursor advanced through
the mapping (\`dst += len\` in a copy loop, a stream's \`next_out\`) and then unmapped can be \`base + PAGE_SIZE\`,
the start of the next page; an offset subtracted from the wrong pointer can land before the page. The
offset is followed through what the function shows: constants, \`PAGE_SIZE\`, \`offset_in_page()\`,
\`& ~PAGE_MASK\`, \`min()\`/\`min_t()\`, \`+=\` and \`++\` (also in loops with a constant trip count). A
cursor advanced by "at most the rest of the page" (\`n = min(len, PAGE_SIZE - off)\`) reaches \`PAGE_SIZE\`
exactly when the data fills the page, and is reported. An offset the function does not bound (a length it
is given) is not. An offset it does not show at all (\`kmap_local_page(sg_page(sg)) + sg->offset\`) is taken
as not negative, so only an unmap at least \`PAGE_SIZE\` further on is reported; the address
\`folio_zero_tail()\` returns is taken as one inside the page (its kernel-doc: "an address which can be passed
to kunmap_local()").

## Why it matters
\`kunmap_local(addr)\` accepts any address inside the mapped page and rounds it down (include/linux/highmem-internal.h:
"@__addr can be any address within the page mapped"), but \`base + PAGE_SIZE\` is the next page. On a 32-bit
HIGHMEM kernel \`kunmap_local_indexed()\` then warns that the address is not the top slot's and leaves the
slot mapped (or tears down the wrong fixmap entry); 64-bit kernels never notice, which is how this survives.

## Example
\`\`\`c
	dst = kmap_local_page(page) + off;
	n = min_t(size_t, len, PAGE_SIZE - off);
	memcpy(dst, src, n);
	dst += n;
	kunmap_local(dst);	/* dst == base + PAGE_SIZE when the copy filled the page */
\`\`\`

## Fix
Keep the address the map returned in its own variable and unmap that, or unmap an address provably inside the
page (\`kunmap_local(dst - 1)\` only where at least one byte was written).`,
  },
  check(ctx) {
    const { violations, reach } = violationsOf(ctx, 'unmap-outside-page');
    for (const v of violations) {
      const side = v.detail === 'before' ? 'before' : 'after';
      const off = offsetText(v.offset!, side);
      const call = quote(v.unmap!.call, 48);
      ctx.report({
        node: v.node,
        key: v.key,
        message:
          side === 'after'
            ? `${call} can be given ${off} past the start of the page mapped at line ${v.mapping.line}: the next page`
            : `${call} is given an address before the page mapped at line ${v.mapping.line} (offset ${off})`,
        detail: [
          'kunmap_local() takes an address inside the mapped page; on HIGHMEM any other address warns and leaves the slot mapped.',
          'Unmap the address the map returned (keep it in its own variable).',
        ].join('\n'),
        trace: traceOf(v.path, { line: v.unmap!.line, note: `${quote(v.unmap!.call)} (offset ${off})` }),
        ...reach,
      });
    }
  },
};
