/**
 * Subsystems from a kernel MAINTAINERS file: which entry a path belongs to, by the entry's F: patterns
 * (and X: exclusions), choosing the most specific match as scripts/get_maintainer.pl ranks them (the
 * longest pattern wins; "THE REST" only when nothing else matches).
 *
 * Pattern rules (MAINTAINERS preamble): `dir/` matches all files in and below; `dir/*` only the files
 * in dir; a pattern naming a directory without the slash also matches below it; `*` and `?` are globs.
 */
export interface MaintainersIndex {
  /** The subsystem a path belongs to, or null when no entry matches. */
  subsystemOf(path: string): string | null;
  readonly entries: number;
}

interface Pattern {
  entry: string;
  /** The F:/X: value; made a test on first use (a kernel MAINTAINERS has ~20,000, a scan tests a few hundred). */
  glob: string;
  test?: (path: string) => boolean;
  /** Specificity: the pattern's length without globs. */
  weight: number;
  exclude: boolean;
}

/**
 * The test for one pattern. Most patterns have no glob (`fs/btrfs/`, `mm/highmem.c`): plain string tests,
 * which answer the same as the pattern's regex without compiling one (a scan's totals compiled hundreds).
 */
function patternTest(pattern: string): (path: string) => boolean {
  const p = pattern.replace(/^\.\//, '');
  if (/[*?]/.test(p)) {
    const re = globToRegex(pattern);
    return (path) => re.test(path);
  }
  if (p.endsWith('/')) return (path) => path.startsWith(p);
  const below = `${p}/`;
  return (path) => path === p || path.startsWith(below);
}

function globToRegex(pattern: string): RegExp {
  let p = pattern.replace(/^\.\//, '');
  const dirOnly = p.endsWith('/*') && !p.slice(0, -2).includes('*');
  let re = '';
  for (const ch of p) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  if (p.endsWith('/')) return new RegExp(`^${re}`);
  if (dirOnly) return new RegExp(`^${re}$`);
  p = re;
  // A file, or a directory given without its trailing slash.
  return new RegExp(`^${p}(?:$|/)`);
}

/** The directory holding a pattern's literal part (before its first glob): the index key. */
function literalDir(pattern: string): string {
  const lit = pattern.replace(/^\.\//, '').split(/[*?]/)[0];
  const slash = lit.lastIndexOf('/');
  return slash < 0 ? '' : lit.slice(0, slash);
}

/** '', 'fs', 'fs/btrfs' for 'fs/btrfs/raid56.c': the keys under which patterns that can match it sit. */
function ancestors(path: string): string[] {
  const out = [''];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}

export function parseMaintainers(text: string): MaintainersIndex {
  const byTop = new Map<string, Pattern[]>();
  const add = (p: Pattern, raw: string) => {
    const k = literalDir(raw);
    const list = byTop.get(k);
    if (list) list.push(p);
    else byTop.set(k, [p]);
  };
  let entry: string | null = null;
  let entries = 0;
  for (const line of text.split('\n')) {
    // A field is `T:` (an upper-case letter and a colon) and its value (character tests: a regex per line of
    // the ~700 kB file showed in a scan's profile).
    const tagCode = line.charCodeAt(0);
    const field = tagCode >= 65 && tagCode <= 90 && line.charCodeAt(1) === 58;
    if (field && entry) {
      const tag = line[0];
      if (tag === 'F' || tag === 'X') {
        const value = line.slice(2).trim();
        if (value) add({ entry, glob: value, weight: value.replace(/[*?]/g, '').length, exclude: tag === 'X' }, value);
      }
      continue;
    }
    // An entry is a title line followed by its fields; a blank line ends it. Preamble prose also looks
    // like a title, but has no F: lines, so it never matches a path.
    if (!line.trim()) entry = null;
    else if (!field && !/^\s/.test(line)) {
      entry = line.trim();
      entries++;
    }
  }
  const matches = (p: Pattern, path: string) => (p.test ??= patternTest(p.glob))(path);
  const memo = new Map<string, string | null>();
  return {
    entries,
    subsystemOf(path: string): string | null {
      const known = memo.get(path);
      if (known !== undefined) return known;
      const candidates = ancestors(path).flatMap((dir) => byTop.get(dir) ?? []);
      const excluded = new Set(candidates.filter((p) => p.exclude && matches(p, path)).map((p) => p.entry));
      let best: Pattern | null = null;
      for (const p of candidates) {
        if (p.exclude || excluded.has(p.entry) || !matches(p, path)) continue;
        if (p.entry === 'THE REST' && best) continue;
        if (!best || best.entry === 'THE REST' || p.weight > best.weight) best = p;
      }
      const entry = best?.entry ?? null;
      memo.set(path, entry);
      return entry;
    },
  };
}
