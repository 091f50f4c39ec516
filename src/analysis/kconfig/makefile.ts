/**
 * A kbuild Makefile read lexically (Documentation/kbuild/makefiles.rst): which objects and subdirectories
 * it builds, and under which CONFIG_ symbol. `obj-$(CONFIG_FOO) += x.o dir/`, `obj-y`, `obj-m`, `lib-y`;
 * composite objects `foo-y += a.o`, `foo-objs := a.o`, `foo-$(CONFIG_BAR) += b.o` (a.o is built when foo.o
 * is). Conditionals (`ifeq`, `ifdef`) are not read: every line counts, which can only add ways to build a
 * file, never remove one. A name that comes from a variable (`$(foo-y)`) is opaque: the Makefile may build
 * anything through it, and reach.ts then claims nothing for the files it could name.
 */

/** One way an object or directory is named: the symbol guarding it (null: always, when its directory is). */
export interface Naming {
  guard: string | null;
  /** An assignment whose guard this module cannot read (`obj-$(if ...)`): may be built in any configuration. */
  opaqueGuard?: boolean;
  line: number;
  /** The composite object it is part of (`ccp` for `ccp-y += sev-dev.o`), built when that one is. */
  composite?: string;
}

export interface Kbuild {
  /** Object (`x.o`, `sub/x.o`) or directory (`sub/`) -> how it is named. */
  names: Map<string, Naming[]>;
  /** Some value came from a variable: any object may be built in ways not seen here. */
  opaque: boolean;
}

const ASSIGNMENT = /^([A-Za-z0-9_./-]+)-(y|m|objs|\$\(CONFIG_([A-Za-z0-9_]+)\)|[^-\s:+?=]*)\s*(?:\+=|:=|\?=|=)\s*(.*)$/;

/** What looks like an object assignment (`obj-...`, `lib-...`, `name-$(...)`) with a left side ASSIGNMENT cannot read. */
const UNREAD_ASSIGNMENT = /^(?:(?:obj|lib)-|[A-Za-z0-9_./-]+-\$\().*?(?:\+=|:=|\?=|=)/;

/** Logical lines: `\` continuations joined, `#` comments removed. */
function makeLines(text: string): Array<{ line: number; text: string }> {
  const raw = text.split('\n');
  const out: Array<{ line: number; text: string }> = [];
  for (let i = 0; i < raw.length; i++) {
    const start = i;
    let line = raw[i];
    while (line.endsWith('\\') && i + 1 < raw.length) line = line.slice(0, -1) + ' ' + raw[++i];
    const hash = line.search(/(?<!\\)#/);
    const code = (hash < 0 ? line : line.slice(0, hash)).trim();
    if (code) out.push({ line: start + 1, text: code });
  }
  return out;
}

export function parseKbuild(text: string): Kbuild {
  const assignments: Array<{ target: string; guard: string | null; opaqueGuard: boolean; line: number; values: string[] }> = [];
  let opaque = false;
  for (const { line, text: t } of makeLines(text)) {
    const m = ASSIGNMENT.exec(t);
    if (!m) {
      // `obj-$(if $(CONFIG_A),y) += x.o`: an assignment to objects this module cannot read.
      if (UNREAD_ASSIGNMENT.test(t)) opaque = true;
      continue;
    }
    const [, target, suffix, config, value] = m;
    const values = value.split(/\s+/).filter(Boolean);
    const known = suffix === 'y' || suffix === 'm' || suffix === 'objs' || config !== undefined;
    assignments.push({ target, guard: config ?? null, opaqueGuard: !known, line, values });
  }
  // Composites are the objects that obj-/lib- lines (or other composites) name and that have parts.
  const names = new Map<string, Naming[]>();
  const add = (name: string, n: Naming) => {
    const list = names.get(name);
    if (list) list.push(n);
    else names.set(name, [n]);
  };
  for (const a of assignments) {
    const builds = a.target === 'obj' || a.target === 'lib';
    const isPart = !builds && assignments.some((b) => b !== a && b.values.includes(`${a.target}.o`));
    if (!builds && !isPart) continue; // ccflags-y, hostprogs-y, subdir-y, always-y...: not kernel objects
    for (const v of a.values) {
      if (v.includes('$')) {
        opaque = true;
        continue;
      }
      add(v, { guard: a.guard, line: a.line, ...(a.opaqueGuard ? { opaqueGuard: true } : {}), ...(builds ? {} : { composite: a.target }) });
    }
  }
  return { names, opaque };
}
