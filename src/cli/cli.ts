/**
 * `kmap-review` command line: check patches, explain rules, list rules. `runCli` takes its I/O as
 * arguments so tests drive it in-process; main.ts wires it to the real process.
 *
 * Exit status: 0 no error-level finding the patch introduces (or nothing to review: no .c/.h change),
 * 1 at least one, 2 bad input or usage (including a patch that does not apply, or is already applied, to
 * --tree), 3 an internal error (main.ts). With --format checkpatch, b4 or email, an input that changes no C
 * file gives no output (b4: `[]`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { analyze, hasBlockingFinding } from '../analysis/engine.js';
import type { ChangeSet, Report } from '../analysis/model.js';
import { isGitTop } from '../analysis/patch/blobs.js';
import { AlreadyAppliedError, InputError } from '../analysis/patch/errors.js';
import { loadEach, nothingToReview, type LoadedInput, type PatchInput } from '../analysis/patch/load.js';
import { allRules, findRule } from '../analysis/rules/index.js';
import { KconfigReach } from '../analysis/kconfig/reach.js';
import { dirTreeReader } from '../analysis/kconfig/tree-reader.js';
import { initParser } from '../analysis/syntax/parser.js';
import { KmapApi } from '../analysis/kmap-api.js';
import { OnDemandTree } from '../analysis/summaries/on-demand.js';
import { renderReportsJson } from '../comments/json.js';
import { formatAddress } from '../comments/email/headers.js';
import { renderReportText } from '../comments/text.js';
import { cliConfigFromOptions, positiveInteger, UsageError } from './options.js';
import { TOOL_VERSION } from './version.js';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  readStdin: () => Buffer;
  cwd: string;
}

export const USAGE = `usage: kmap-review check [options] PATCH...    review patches (- for stdin), mbox series
       kmap-review check [options] --git A..B    review each commit of a git range
       kmap-review scan [options] [DIR]          repo-wide status of a tree (default: .)
       kmap-review scan [options] --git REV      the same for a commit of the git repository here
       kmap-review fix [options] DIR | --tree T PATCH | --git A..B
                                                 convert the ready sites (kmap-review fix --help)
       kmap-review explain RULE                  print a rule's documentation
       kmap-review rules                         list the rules

check options:
  --tree DIR            pre-image kernel tree: patches are applied in memory and whole functions analysed;
                        in a git repository the exact pre-image blobs of the patch's index lines are used
                        (the working tree may have moved on), else the files, with offsets and fuzz
  --callees             with --tree: follow calls inside atomic sections into the tree's other files
                        (callee summaries: a user copy that must not fault two calls down, a sleep);
                        indexes the tree's definitions first when a section calls another file (~1 s
                        on Linux), so it is not the default
  --git RANGE           review the commits A..B of the git repository in the current directory
  --format text|json|checkpatch|b4|email
                        output format (default text; json follows schema/report-v1.schema.json;
                        checkpatch: FILE:LINE: ERROR: msg [rule] lines for b4's *-perpatch-check-cmd,
                        nothing when clean; b4: the JSON array of b4 review's review-perpatch-check-cmd;
                        email: an mbox of review replies, one per patch with findings).
                        checkpatch and b4 read stdin when no PATCH is given and use the current
                        directory as --tree when it is the top of a git repository
  --notices             checkpatch, b4, email: also report notices (checkpatch: as CHECK:)
  --include-pre-existing
                        checkpatch, b4, email: also report findings the pre-image already had
  --from ADDR           email: the From: of the replies (default: git's user.name and user.email)
  --email-clean         email: also reply "no kmap issues found" to clean patches
  --config FILE         a kmap-review.yml (same format as the App's .github/kmap-review.yml;
                        its include/exclude globs select the files)
  --rule ID=LEVEL       set a rule to error, warning, notice or off (repeatable)
  --map-fn NAME[=API]   treat NAME as a mapping wrapper behaving like API (default kmap_local_page)
  --unmap-fn NAME[=API] treat NAME as an unmapping wrapper behaving like API (default kunmap_local)
  --max-bytes N         refuse inputs larger than N bytes (default 32 MiB)
  -h, --help            this help
  -V, --version         print the version

scan options:
  --git REV             scan a revision of the git repository in the current directory (never checked out)
  --format text|json|markdown|sarif
                        output format (default text; json follows schema/scan-v1.schema.json and is
                        also the --baseline input; sarif is SARIF 2.1.0 for GitHub code scanning)
  --baseline FILE       a previous --format json result: report the trend, fail on new uses (also in
                        files skipped as too large or unanalysable: their calls are counted lexically)
  --jobs N              threads in all (default: the number of CPUs): this one reads, N-1 analyse;
                        1 does everything in one thread
  --cache               keep each file's result for the next scan (in $XDG_CACHE_HOME/kmap-review, else
                        ~/.cache/kmap-review): unchanged files are not analysed again
  --cache-dir DIR       keep the cache in DIR instead (implies --cache)
  --verbose             also list the ready sites in text output
  --config, --rule, --map-fn, --unmap-fn, --max-bytes as for check


any command:
  --debug               on an internal error (exit 3), print the stack trace too

exit status: 0 no new error (or nothing to review: no .c/.h change), 1 an error-level finding the patch
introduces, 2 bad input or usage (also: the patch does not apply to --tree, or is already applied; with
several PATCH files the others are still reviewed), 3 an internal error (a bug in kmap-review: one line
naming the input; please report it); with --format checkpatch|b4|email a patch that changes no C file
gives no output (b4: []) and 0;
for scan: 1 when --baseline is given and there are new deprecated uses or new error findings`;

async function check(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      tree: { type: 'string' },
      callees: { type: 'boolean' },
      git: { type: 'string' },
      format: { type: 'string', default: 'text' },
      config: { type: 'string' },
      rule: { type: 'string', multiple: true },
      'map-fn': { type: 'string', multiple: true },
      'unmap-fn': { type: 'string', multiple: true },
      'max-bytes': { type: 'string' },
      notices: { type: 'boolean' },
      'include-pre-existing': { type: 'boolean' },
      from: { type: 'string' },
      'email-clean': { type: 'boolean' },
    },
  });
  const format = values.format as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not '${values.format}'`);
  const forB4 = format === 'checkpatch' || format === 'b4';
  // b4 runs the check command with the patch on stdin and no arguments of its own.
  if (!positionals.length && !values.git && forB4) positionals.push('-');
  if (!positionals.length && !values.git) throw new UsageError('check needs at least one PATCH (or - for stdin), or --git A..B');
  if (format === 'b4') {
    // b4 reads stdout as JSON whatever happens: errors become a "fail" entry, not a message on stderr.
    try {
      return await checkWith(values, positionals, format, io);
    } catch (e) {
      if (e instanceof InputError || e instanceof UsageError) {
        const { renderB4Error } = await import('../comments/b4.js');
        io.stdout(renderB4Error(`kmap-review: ${e.message}`));
        return 2;
      }
      throw e;
    }
  }
  // A valid input that changes no C file is not an error: checkWith says "nothing to review" and returns 0.
  return checkWith(values, positionals, format, io);
}

const FORMATS = ['text', 'json', 'checkpatch', 'b4', 'email'] as const;
type Format = (typeof FORMATS)[number];

interface CheckValues {
  tree?: string;
  callees?: boolean;
  git?: string;
  config?: string;
  rule?: string[];
  'map-fn'?: string[];
  'unmap-fn'?: string[];
  'max-bytes'?: string;
  notices?: boolean;
  'include-pre-existing'?: boolean;
  from?: string;
  'email-clean'?: boolean;
}

async function checkWith(values: CheckValues, positionals: string[], format: Format, io: CliIo): Promise<number> {
  // With b4, the command runs at the top of the tree the patch is for: that is the tree.
  const implicitTree = values.tree === undefined && (format === 'checkpatch' || format === 'b4') && isGitTop(io.cwd) ? io.cwd : undefined;
  if (values.from !== undefined && !/^[^\r\n<>@]*<[^\s<>@]+@[^\s<>@]+>$|^[^\s<>@]+@[^\s<>@]+$/.test(values.from.trim())) {
    throw new UsageError(`--from expects 'Name <addr@host>' or addr@host, got '${values.from}'`);
  }
  const from = format === 'email' ? (values.from?.trim() ?? gitIdentity(io.cwd)) : undefined;
  const maxBytes = positiveInteger(values['max-bytes'], '--max-bytes');
  const { engine: config, select, notSelectedReason } = await cliConfigFromOptions(values, io.cwd);

  // Compiling the parser's WASM is asynchronous: start it now so it overlaps reading and applying patches.
  const parserReady = initParser();
  parserReady.catch(() => undefined);
  // Several inputs are independent reviews: a bad one is reported (exit 2 at the end), the others reviewed.
  const inputs: PatchInput[] = [];
  const bad: string[] = [];
  if (values.git) inputs.push({ gitRange: values.git, cwd: io.cwd });
  for (const p of positionals) {
    if (p === '-') inputs.push({ name: '<stdin>', content: io.readStdin() });
    else {
      try {
        inputs.push({ name: p, content: readFileSync(p) });
      } catch (e) {
        bad.push(`cannot read ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
    }
  }
  const loaded: ChangeSet[] = [];
  if (inputs.length) {
    let results: LoadedInput[] = loadEach(inputs, { tree: values.tree ?? implicitTree, maxBytes });
    // The tree b4 runs in is a guess: a patch it does not fit is reviewed from its hunks alone.
    if (implicitTree) {
      results = results.map((r) => ('error' in r && !(r.error instanceof AlreadyAppliedError) ? loadEach([r.input], { maxBytes })[0]! : r));
    }
    for (const r of results) {
      if ('error' in r) bad.push(r.error.message);
      else loaded.push(...r.sets);
    }
  }
  const reportBad = () => {
    for (const m of bad) io.stderr(`kmap-review: ${m}\n`);
    if (bad.length && loaded.length) io.stderr(`kmap-review: ${bad.length} of ${positionals.length + (values.git ? 1 : 0)} inputs could not be reviewed (exit 2)\n`);
  };
  if (!loaded.length) {
    if (bad.length === 1) throw new InputError(bad[0]!);
    reportBad();
    return 2;
  }
  const nothing = nothingToReview(loaded);
  if (nothing) {
    // Docs or binary only: not bad input, and no review to print (b4 reads `[]` as nothing to say).
    if (format === 'json') io.stdout(renderReportsJson(await Promise.all(loaded.map((cs) => parserReady.then(() => analyze(cs, config)))), TOOL_VERSION) + '\n');
    else if (format === 'b4') io.stdout('[]\n');
    else if (format === 'text') io.stdout(`kmap-review: ${nothing}\n`);
    reportBad();
    return bad.length ? 2 : 0;
  }
  // Files the --config's include/exclude leave out are listed as skipped, as the App does.
  const changeSets: ChangeSet[] = !select ? loaded : loaded.map((cs) => {
    const out = cs.files.filter((f) => !select(f.newPath ?? f.oldPath ?? ''));
    return { ...cs, files: cs.files.filter((f) => !out.includes(f)), skipped: [...cs.skipped, ...out.map((f) => ({ path: f.newPath ?? f.oldPath ?? '', reason: notSelectedReason }))] };
  });
  await parserReady;
  const reports: Report[] = [];
  // The tree's Makefiles and Kconfig say where the patched files can be built (kconfig/reach.ts); with
  // --callees, its callee summaries, indexed only if a patch's atomic sections call other files' functions.
  const treeDir = values.tree ?? implicitTree;
  const reach = treeDir !== undefined ? new KconfigReach(dirTreeReader(resolve(io.cwd, treeDir))) : undefined;
  const tree = values.callees && treeDir !== undefined && isDirectory(resolve(io.cwd, treeDir)) ? new OnDemandTree(resolve(io.cwd, treeDir), new KmapApi(config)) : undefined;
  for (const cs of changeSets) reports.push(await analyze(cs, config, { ...(reach ? { reach } : {}), ...(tree ? { tree } : {}) }));

  const postText = new Map(changeSets.flatMap((cs) => cs.files.map((f) => [f.newPath ?? '', f.newText] as const)));
  const postLines = (path: string) => postText.get(path)?.split('\n');
  const includePreExisting = values['include-pre-existing'] ?? false;
  if (format === 'json') io.stdout(renderReportsJson(reports, TOOL_VERSION) + '\n');
  else if (format === 'checkpatch') {
    const { renderCheckpatch } = await import('../comments/checkpatch.js');
    io.stdout(renderCheckpatch(reports, { notices: values.notices ?? false, includePreExisting }));
  } else if (format === 'b4') {
    const { renderB4 } = await import('../comments/b4.js');
    const postLinesFor = (i: number) => {
      const texts = new Map(changeSets[i]!.files.map((f) => [f.newPath ?? '', f.newText] as const));
      return (path: string) => texts.get(path)?.split('\n');
    };
    io.stdout(renderB4(reports, { includePreExisting, notices: values.notices ?? false, postLinesFor }));
  } else if (format === 'email') {
    const { renderReplies } = await import('../comments/email/reply.js');
    const mbox = renderReplies(reports, changeSets, { from: from!, toolVersion: TOOL_VERSION, now: new Date(), includePreExisting, notices: values.notices ?? false, replyWhenClean: values['email-clean'] ?? false });
    if (mbox) io.stdout(mbox);
  } else io.stdout(reports.map((r) => renderReportText(r, { header: reports.length > 1, postLines })).join('\n\n') + '\n');
  reportBad();
  if (bad.length) return 2;
  return reports.some(hasBlockingFinding) ? 1 : 0;
}

/** `Name <email>` from git's user.name / user.email (as git send-email would), or a usage error. */
function gitIdentity(cwd: string): string {
  const get = (key: string): string => {
    const r = spawnSync('git', ['config', key], { cwd, encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : '';
  };
  const name = get('user.name');
  const email = get('user.email');
  if (!email) throw new UsageError("--format email needs --from 'Name <addr>', or git's user.email (git config user.email)");
  return formatAddress(name, email);
}

function explain(args: string[], io: CliIo): number {
  if (args.length !== 1) throw new UsageError('explain takes one rule id (see kmap-review rules)');
  const rule = findRule(args[0]);
  if (!rule) throw new UsageError(`unknown rule '${args[0]}'; the rules are: ${allRules.map((r) => r.meta.id).join(', ')}`);
  io.stdout(`# ${rule.meta.id} (${rule.meta.severity})\n\n${rule.meta.summary}\n\n${rule.meta.doc}\n`);
  return 0;
}

function listRules(io: CliIo): number {
  const width = Math.max(...allRules.map((r) => r.meta.id.length));
  for (const r of allRules) io.stdout(`${r.meta.id.padEnd(width)}  ${r.meta.severity.padEnd(7)}  ${r.meta.summary}\n`);
  return 0;
}

/** What exit status 3 prints: one line, naming the command and its inputs, asking for a report. */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function internalErrorLine(args: readonly string[], e: unknown): string {
  const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  // A module or the grammar missing is an incomplete installation, not a bug to report.
  const missing = /^Cannot find (?:module|package) '([^']+)'/.exec(message ?? '');
  if (missing) return `kmap-review: the installation is incomplete: '${missing[1]}' cannot be found (run 'npm ci' in kmap-review's directory, or reinstall it)`;
  return `kmap-review: internal error (a bug in kmap-review, not in your input) in 'kmap-review ${args.join(' ')}': ${message}; ` +
    `please report it with that input (--debug prints the stack)`;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'check':
        if (rest.includes('-h') || rest.includes('--help')) break;
        return await check(rest, io);
      case 'scan':
        if (rest.includes('-h') || rest.includes('--help')) break;
        // Loaded on demand: `check` runs once per patch and should not pay for the scanner's modules.
        return await (await import('./scan.js')).runScan(rest, io);
      case 'fix':
        // Handles its own --help, usage errors and exit codes.
        return await (await import('./fix.js')).runFix(rest, io);
      case 'explain':
        return explain(rest, io);
      case 'rules':
        return listRules(io);
      case '-V':
      case '--version':
        io.stdout(`kmap-review ${TOOL_VERSION}\n`);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        break;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
    io.stdout(USAGE + '\n');
    return command === undefined ? 2 : 0;
  } catch (e) {
    if (e instanceof InputError || e instanceof UsageError) {
      io.stderr(`kmap-review: ${e.message}\n`);
      if (e instanceof UsageError) io.stderr(`try 'kmap-review --help'\n`);
      return 2;
    }
    // parseArgs reports unknown or malformed options as TypeErrors with a code.
    if ((e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`kmap-review: ${(e as Error).message}\ntry 'kmap-review --help'\n`);
      return 2;
    }
    throw e;
  }
}
