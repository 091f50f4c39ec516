#!/usr/bin/env node
/**
 * The GitHub Action's entry point (action.yml): reviews the commits of a pull request (or a push) with
 * `kmap-review check --git BASE..HEAD --format json`, then
 * - writes workflow commands: `::error file=...,line=...,title=...::message` for new findings, at most 10
 *   errors, 10 warnings and 10 notices (GitHub shows no more annotations per step); the rest are in the summary;
 * - appends a Markdown job summary to $GITHUB_STEP_SUMMARY (every new finding, and the pre-existing count);
 * - writes a SARIF 2.1.0 file when INPUT_SARIF names one (for github/codeql-action/upload-sarif);
 * - exits 1 when a new finding at or above INPUT_FAIL_ON (error | warning | notice | never; default error)
 *   exists, 2 when the range cannot be reviewed (bad input, e.g. a shallow clone without the base commit).
 * Environment: GITHUB_EVENT_PATH, GITHUB_WORKSPACE (the checkout; default the current directory),
 * GITHUB_STEP_SUMMARY, INPUT_FAIL_ON, INPUT_SARIF, INPUT_ARGS (extra check options, e.g. `--config FILE`),
 * KMAP_REVIEW_CLI (the CLI to run; default this checkout's dist/cli/main.js).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const LEVELS = ['error', 'warning', 'notice'];
const ANNOTATIONS_PER_LEVEL = 10;

/** Workflow command escaping (the runner's toCommandValue / escapeProperty). */
export const escapeData = (s) => String(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
export const escapeProperty = (s) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** BASE..HEAD from the event: a pull request's base and head commits, or a push's before..after. */
export function rangeFromEvent(event) {
  const pr = event.pull_request;
  if (pr?.base?.sha && pr?.head?.sha) return `${pr.base.sha}..${pr.head.sha}`;
  if (event.before && event.after && !/^0+$/.test(event.before)) return `${event.before}..${event.after}`;
  return undefined;
}

export function annotationLines(findings) {
  const lines = [];
  const left = [];
  for (const level of LEVELS) {
    const of = findings.filter((f) => f.severity === level);
    for (const f of of.slice(0, ANNOTATIONS_PER_LEVEL)) {
      const end = f.endLine && f.endLine !== f.line ? `,endLine=${f.endLine}` : '';
      lines.push(`::${level} file=${escapeProperty(f.path)},line=${f.line}${end},title=${escapeProperty(`kmap-review ${f.rule}`)}::${escapeData(f.message)}`);
    }
    left.push(...of.slice(ANNOTATIONS_PER_LEVEL));
  }
  return { lines, left };
}

const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function summaryMarkdown(range, doc, left, failOn, failed) {
  const fresh = doc.findings.filter((f) => !f.preExisting);
  const pre = doc.findings.length - fresh.length;
  const counts = LEVELS.map((l) => `${fresh.filter((f) => f.severity === l).length} ${l}${fresh.filter((f) => f.severity === l).length === 1 ? '' : 's'}`).join(', ');
  const out = [`## kmap-review: ${failed ? '🛑' : '✅'} ${counts}`, ''];
  out.push(`Reviewed \`${range}\`: ${doc.reviews.length} commit${doc.reviews.length === 1 ? '' : 's'}, ` +
    `${doc.reviews.reduce((n, r) => n + r.files.length, 0)} C/H file changes analysed` + (pre ? `; ${pre} pre-existing finding${pre === 1 ? '' : 's'} (not counted)` : '') + '.');
  out.push('', `Fails on: \`${failOn}\`${failed ? ' (failed)' : ''}.`);
  if (fresh.length) {
    out.push('', '| file | line | severity | rule | message |', '|---|---:|---|---|---|');
    for (const f of fresh) out.push(`| \`${cell(f.path)}\` | ${f.line} | ${f.severity} | \`${f.rule}\` | ${cell(f.message)} |`);
  }
  if (left.length) out.push('', `${left.length} finding${left.length === 1 ? ' is' : 's are'} over GitHub's 10 annotations per level: listed above only.`);
  return out.join('\n') + '\n';
}

export function sarifLog(doc) {
  const rules = [...new Set(doc.findings.map((f) => f.rule))];
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'kmap-review', version: doc.tool?.version ?? '0', informationUri: 'https://www.kernel.org/doc/html/latest/mm/highmem.html', rules: rules.map((id) => ({ id })) } },
      results: doc.findings.filter((f) => !f.preExisting).map((f) => ({
        ruleId: f.rule, ruleIndex: rules.indexOf(f.rule), level: f.severity === 'notice' ? 'note' : f.severity, message: { text: f.message },
        locations: [{ physicalLocation: { artifactLocation: { uri: f.path, uriBaseId: '%SRCROOT%' }, region: { startLine: f.line, endLine: f.endLine ?? f.line } } }],
        partialFingerprints: { 'kmapReviewFinding/v1': f.fingerprint },
      })),
    }],
  };
}

export function main(env = process.env, write = (s) => process.stdout.write(s)) {
  const failOn = (env.INPUT_FAIL_ON || 'error').trim();
  if (![...LEVELS, 'never'].includes(failOn)) {
    write(`::error title=kmap-review::fail-on must be one of error, warning, notice, never (got ${escapeData(failOn)})\n`);
    return 2;
  }
  let event;
  try {
    event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH ?? '', 'utf8'));
  } catch (e) {
    write(`::error title=kmap-review::cannot read the event (GITHUB_EVENT_PATH): ${escapeData(e.message)}\n`);
    return 2;
  }
  const range = rangeFromEvent(event);
  if (!range) {
    write(`::error title=kmap-review::the event has no pull request or push range to review\n`);
    return 2;
  }
  const cwd = resolve(env.GITHUB_WORKSPACE || '.');
  const cli = env.KMAP_REVIEW_CLI || join(HERE, '..', 'dist', 'cli', 'main.js');
  const extra = (env.INPUT_ARGS || '').split(/\s+/).filter(Boolean);
  const run = spawnSync(process.execPath, [cli, 'check', '--git', range, '--format', 'json', ...extra], { cwd, encoding: 'utf8', maxBuffer: 256 << 20 });
  let doc;
  try {
    if (run.status !== 0 && run.status !== 1) throw new Error('not reviewed');
    doc = JSON.parse(run.stdout);
  } catch {
    const msg = (run.stderr || run.error?.message || `exit ${run.status}`).trim().split('\n')[0];
    const hint = run.status === 2 ? ' (the checkout needs both commits: actions/checkout with fetch-depth: 0)' : '';
    write(`::error title=kmap-review::${escapeData(msg)}${hint}\n`);
    return 2;
  }
  const fresh = doc.findings.filter((f) => !f.preExisting);
  const { lines, left } = annotationLines(fresh);
  for (const l of lines) write(`${l}\n`);
  const failed = failOn !== 'never' && fresh.some((f) => LEVELS.indexOf(f.severity) <= LEVELS.indexOf(failOn));
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, summaryMarkdown(range, doc, left, failOn, failed));
  if (env.INPUT_SARIF) writeFileSync(resolve(cwd, env.INPUT_SARIF), JSON.stringify(sarifLog(doc), null, 2) + '\n');
  write(`kmap-review: ${range}: ${fresh.length} new finding${fresh.length === 1 ? '' : 's'}${failed ? `, failing on ${failOn}` : ''}\n`);
  return failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
