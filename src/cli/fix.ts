/**
 * `kmap-review fix [DIR | PATCH | --git A..B] [--write | --patch OUT]`: converts the `ready` sites (as
 * `scan` classifies them), verifies every rewritten function with all rules, and prints (or writes) git
 * patches with commit messages; sites left alone are listed on stderr with the reason.
 *
 * Exit status: 0 done (including "nothing to convert"), 1 a rewrite was dropped because its laid-out
 * form drew a finding (reported), 2 bad input or usage.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { buildPatches, fixFile, renderSeries, type FixedFile } from '../analysis/convert/fix.js';
import { OnDemandTree } from '../analysis/summaries/on-demand.js';
import { KmapApi } from '../analysis/kmap-api.js';
import { InputError } from '../analysis/patch/errors.js';
import { isReviewedPath } from '../analysis/patch/kinds.js';
import { loadChangeSets } from '../analysis/patch/load.js';
import { DEFAULT_MAX_BYTES } from '../analysis/patch/text.js';
import { parseMaintainers } from '../analysis/scan/maintainers.js';
import { mayMentionApi } from '../analysis/scan/prefilter.js';
import { listCFiles } from '../analysis/scan/sources.js';
import { initParser } from '../analysis/syntax/parser.js';
import type { CliIo } from './cli.js';
import { cliConfigFromOptions, UsageError } from './options.js';

export const FIX_USAGE = `usage: kmap-review fix [options] DIR            convert the ready sites of the C files under DIR
       kmap-review fix [options] --tree T PATCH  convert what the files a patch touches still need (after the patch)
       kmap-review fix [options] --git A..B      convert what the files changed in A..B still need (at B)

fix options:
  --write                   rewrite the files in place (DIR only; atomically, never outside DIR or --tree)
  --patch OUT               write the patch series (mbox, for git am) to OUT instead of stdout
  --tree DIR                the kernel tree: patch paths are relative to it (default: DIR itself)
  --split                   one patch per MAINTAINERS subsystem (or directory) instead of one per file
  --add-pagefault-disable   convert kmap_atomic() sections that need page faults disabled, with an explicit
                            pagefault_disable()/pagefault_enable() pair inside the mapping
  --no-helpers              keep open-coded map + memcpy/memset + unmap (renamed) instead of the helpers
  --author "NAME <EMAIL>"   the From: of the generated patches
  --config FILE, --rule ID=LEVEL, --map-fn NAME[=API], --unmap-fn NAME[=API], --max-bytes N   as for check

exit status: 0 done, 1 a rewrite was dropped by the re-check of its final form, 2 bad input or usage`;

function inside(root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** Writes `text` to `path` atomically: a temporary file in the same directory, then rename. */
function writeAtomically(path: string, text: string): void {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.kmap-review.tmp`);
  const mode = statSync(path).mode & 0o7777;
  try {
    writeFileSync(tmp, text, { mode, flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    throw new InputError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

interface Source {
  /** Path in the patch (relative to the tree). */
  path: string;
  text: string;
  /** Where --write puts it (DIR mode only). */
  file?: string;
}

export async function runFix(argv: string[], io: CliIo): Promise<number> {
  try {
    return await fix(argv, io);
  } catch (e) {
    if (e instanceof InputError || e instanceof UsageError) {
      io.stderr(`kmap-review: ${e.message}\n`);
      if (e instanceof UsageError) io.stderr(`try 'kmap-review fix --help'\n`);
      return 2;
    }
    if ((e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`kmap-review: ${(e as Error).message}\ntry 'kmap-review fix --help'\n`);
      return 2;
    }
    throw e;
  }
}

async function fix(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.stdout(FIX_USAGE + '\n');
    return 0;
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tree: { type: 'string' },
      git: { type: 'string' },
      write: { type: 'boolean', default: false },
      patch: { type: 'string' },
      split: { type: 'boolean', default: false },
      'add-pagefault-disable': { type: 'boolean', default: false },
      'no-helpers': { type: 'boolean', default: false },
      author: { type: 'string' },
      config: { type: 'string' },
      rule: { type: 'string', multiple: true },
      'map-fn': { type: 'string', multiple: true },
      'unmap-fn': { type: 'string', multiple: true },
      'max-bytes': { type: 'string' },
    },
  });
  if (positionals.length > 1) throw new UsageError('fix takes one DIR or PATCH (or --git A..B)');
  if (!positionals.length && !values.git) throw new UsageError('fix needs a DIR, a PATCH (with --tree) or --git A..B');
  if (positionals.length && values.git) throw new UsageError('give either a DIR/PATCH or --git A..B, not both');
  if (values.author !== undefined && !/^[^<>\n]+ <[^<>\s]+>$/.test(values.author)) throw new UsageError(`--author expects "NAME <EMAIL>", got '${values.author}'`);
  let maxBytes = DEFAULT_MAX_BYTES;
  if (values['max-bytes'] !== undefined) {
    maxBytes = Number(values['max-bytes']);
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new UsageError(`--max-bytes expects a positive whole number, got '${values['max-bytes']}'`);
  }
  const { engine: config, select } = await cliConfigFromOptions(values, io.cwd);
  const api = new KmapApi(config);
  const parserReady = initParser();
  parserReady.catch(() => undefined);

  const sources: Source[] = [];
  let treeRoot: string | null = null;
  const target = positionals[0];
  const isDir = target !== undefined && existsSync(resolve(io.cwd, target)) && statSync(resolve(io.cwd, target)).isDirectory();
  if (values.write && !isDir) throw new UsageError('--write needs a DIR: for a PATCH or --git range, write the patch with --patch and apply it');
  if (isDir) {
    const dir = realpathSync(resolve(io.cwd, target!));
    let root = dir;
    if (values.tree !== undefined) {
      try {
        root = realpathSync(resolve(io.cwd, values.tree));
      } catch {
        throw new InputError(`--tree ${values.tree}: no such directory`);
      }
      if (!inside(root, dir)) throw new InputError(`${target}: is outside the tree ${values.tree}; refusing it`);
    }
    treeRoot = root;
    for (const rel of listCFiles(dir)) {
      const file = join(dir, rel);
      if (select && !select(relative(root, file).split(sep).join('/'))) continue;
      const size = statSync(file).size;
      if (size > maxBytes) {
        io.stderr(`kmap-review: skipping ${rel}: larger than ${maxBytes} bytes\n`);
        continue;
      }
      const bytes = readFileSync(file);
      if (!mayMentionApi(bytes, api.wrapperNames())) continue;
      sources.push({ path: relative(root, file).split(sep).join('/'), text: bytes.toString('utf8'), file });
    }
  } else {
    let sets;
    if (values.git) sets = loadChangeSets([{ gitRange: values.git, cwd: io.cwd }], { maxBytes });
    else {
      if (values.tree === undefined) throw new UsageError(`${target}: not a directory; a PATCH needs --tree (the tree it applies to)`);
      let content: Buffer;
      try {
        content = readFileSync(resolve(io.cwd, target!));
      } catch (e) {
        throw new InputError(`cannot read ${target}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
      sets = loadChangeSets([{ name: target!, content }], { tree: resolve(io.cwd, values.tree), maxBytes });
    }
    // The last version of each file the range or patch (series) touches.
    const last = new Map<string, string>();
    for (const cs of sets) for (const f of cs.files) if (f.newPath && isReviewedPath(f.newPath)) last.set(f.newPath, f.newText);
    for (const [path, text] of last) if (!select || select(path)) sources.push({ path, text });
  }
  await parserReady;

  const fixed: FixedFile[] = [];
  // The tree's callee summaries (the DIR's tree, or --tree), indexed only if an atomic section calls another file's function.
  const treeDir = treeRoot ?? (values.tree !== undefined ? resolve(io.cwd, values.tree) : null);
  const tree = treeDir ? new OnDemandTree(treeDir, api) : undefined;
  for (const s of sources) fixed.push(fixFile(s.path, s.text, { api, config, addPagefaultDisable: values['add-pagefault-disable'], helpers: !values['no-helpers'], ...(tree ? { tree } : {}) }));

  // Listing: what was converted, what was left alone and why.
  const sites = fixed.flatMap((f) => f.sites);
  const converted = sites.filter((s) => s.converted);
  const left = sites.filter((s) => !s.converted);
  for (const s of left) io.stderr(`${s.path}:${s.line}: ${s.class}: ${s.api}()${s.function ? ` in ${s.function}()` : ''} left alone: ${s.detail}\n`);
  const dropped = fixed.filter((f) => f.recheck.length);
  for (const f of dropped) io.stderr(`${f.path}: rewrite dropped: its final form draws ${f.recheck[0].rule} at line ${f.recheck[0].line}: ${f.recheck[0].message}\n`);

  let subsystemOf: ((p: string) => string) | undefined;
  if (values.split) {
    let maintainers: string | null = null;
    if (treeRoot) {
      try {
        maintainers = readFileSync(join(treeRoot, 'MAINTAINERS'), 'utf8');
      } catch {
        maintainers = null;
      }
    }
    const index = maintainers ? parseMaintainers(maintainers) : null;
    subsystemOf = (p) => index?.subsystemOf(p) ?? p.split('/').slice(0, -1).join('/');
  }
  const patches = buildPatches(fixed, subsystemOf);
  const series = patches.length ? renderSeries(patches, values.author) : '';
  io.stderr(`kmap-review fix: ${converted.length} of ${sites.length} sites converted in ${patches.length ? fixed.filter((f) => f.after !== f.before).length : 0} files; ${left.length} left alone\n`);

  if (values.write) {
    for (const f of fixed) {
      if (f.after === f.before) continue;
      const s = sources.find((x) => x.path === f.path)!;
      // The file must still be the regular file inside the tree that was read.
      const st = lstatSync(s.file!);
      if (!st.isFile() || !inside(treeRoot!, realpathSync(s.file!))) throw new InputError(`${f.path}: no longer a regular file inside the tree; not written`);
      writeAtomically(s.file!, f.after);
    }
  }
  if (values.patch !== undefined) {
    try {
      writeFileSync(resolve(io.cwd, values.patch), series);
    } catch (e) {
      throw new InputError(`cannot write ${values.patch}: ${(e as Error).message}`);
    }
  } else if (!values.write) io.stdout(series);
  return dropped.length ? 1 : 0;
}
