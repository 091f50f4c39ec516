/**
 * `--format email`: a maintainer-style review reply to each patch mail, as an mbox. Each reply quotes
 * the patch's own lines around a finding (the hunk header and a few lines of context, `> ` prefixed),
 * with the comment right below the quoted line: the message, the path through the code as a short
 * list, and the fix as a diff. Prose is wrapped at 78 columns; no markup.
 */
import type { ChangeSet, Finding, PatchFileView, Report } from '../../analysis/model.js';
import { decodeWords } from '../../analysis/patch/mbox.js';
import { bareAddress, displayName, encodeWord, foldHeader, messageIds, newMessageId, rfc2822Date, splitAddresses } from './headers.js';
import { wrap } from './wrap.js';

export interface ReplyOptions {
  /** The sender, `Name <addr>` (already formatted). */
  from: string;
  toolVersion: string;
  now: Date;
  includePreExisting?: boolean;
  /** Also comment on notices (off by default, as in the checkpatch format). */
  notices?: boolean;
  /** Reply "no kmap issues found" to clean patches instead of staying silent. */
  replyWhenClean?: boolean;
}

type PostLines = (path: string) => string[] | undefined;

/** The post-image lines of the patch's own files (a series: this patch's, not the last one's). */
function postLinesOf(cs: ChangeSet): PostLines {
  const texts = new Map(cs.files.map((f) => [f.newPath ?? '', f.newText] as const));
  return (path) => texts.get(path)?.split('\n');
}

/** Context lines quoted above the line a finding is about. */
const CONTEXT = 3;

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** Where a post-image line is in the patch: the hunk and the index of the line in it. */
function locate(view: PatchFileView | undefined, line: number): { hunk: number; index: number } | null {
  if (!view) return null;
  for (let h = 0; h < view.hunks.length; h++) {
    let n = view.hunks[h]!.newStart;
    const lines = view.hunks[h]!.lines;
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.kind === '-') continue;
      if (n === line) return { hunk: h, index: i };
      n++;
    }
  }
  return null;
}

function comment(f: Finding, postLines: PostLines): string[] {
  const out: string[] = [];
  out.push(...wrap(`${f.severity === 'error' ? 'This is a bug' : f.severity === 'warning' ? 'This looks wrong' : 'A note'}: ${f.message}.`.replace(/\.\.$/, '.')));
  if (f.detail) out.push('', ...wrap(f.detail));
  if (f.trace.length) {
    out.push('', 'The path through the code:');
    for (const s of f.trace) out.push(...wrap(`line ${s.line}${s.path === f.path ? '' : ` of ${s.path}`}: ${s.note}`, 78, '  - ', '    '));
  }
  if (f.note) out.push('', ...wrap(`Note: ${f.note}`));
  if (f.fix) {
    out.push('', ...wrap(`Suggested fix (${f.fix.description}):`), '');
    const lines = postLines?.(f.fix.path);
    for (const e of f.fix.edits) {
      if (lines) for (let l = e.startLine; l <= e.endLine; l++) out.push(`-${lines[l - 1] ?? ''}`);
      if (e.replacement !== '') for (const r of e.replacement.split('\n')) out.push(`+${r}`);
    }
    out.push('');
  }
  out.push(...wrap(`(kmap-review rule ${f.rule}${f.preExisting ? ', already there before this patch' : ''})`));
  return out;
}

/** The body: greeting, attribution, the quoted patch with comments, sign-off. */
function body(cs: ChangeSet, findings: readonly Finding[], opts: ReplyOptions): string[] {
  const author = cs.mail?.from ? displayName(cs.mail.from, decodeWords) : '';
  const out: string[] = [`Hi ${author.split(/\s+/)[0] || 'there'},`, ''];
  if (cs.mail?.date || cs.mail?.from) out.push(...wrap(`On ${cs.mail?.date ?? 'an unknown date'}, ${author || 'the author'} wrote:`));
  const quoteStart = out.length;
  const byPath = new Map<string, Finding[]>();
  for (const f of findings) byPath.set(f.path, [...(byPath.get(f.path) ?? []), f]);
  const unplaced: Finding[] = [];
  const postLines = postLinesOf(cs);
  for (const [path, fs] of byPath) {
    const view = cs.patch?.find((v) => v.path === path);
    let header = false;
    let last: { hunk: number; index: number } | null = null;
    for (const f of [...fs].sort((a, b) => a.line - b.line)) {
      const at = locate(view, f.line);
      if (!at || !view) {
        unplaced.push(f);
        continue;
      }
      if (!header) {
        out.push(`> diff --git a/${path} b/${path}`);
        header = true;
      }
      const hunk = view.hunks[at.hunk]!;
      let from = Math.max(0, at.index - CONTEXT);
      if (last && last.hunk === at.hunk && last.index >= from) from = last.index + 1;
      if (!last || last.hunk !== at.hunk) out.push(`> ${hunk.header}`);
      else if (from > last.index + 1) out.push('> [...]');
      if (from <= at.index) {
        for (let i = from; i <= at.index; i++) out.push(`> ${hunk.lines[i]!.kind}${hunk.lines[i]!.text}`);
        out.push('');
      }
      out.push(...comment(f, postLines), '');
      last = at;
    }
  }
  if (unplaced.length && out.length === quoteStart) out.push('');
  for (const f of unplaced) {
    out.push(...wrap(`In ${f.path}, line ${f.line}${f.function ? ` (${f.function}())` : ''}, outside the lines the patch shows:`), '', ...comment(f, postLines), '');
  }
  return out;
}

function footer(opts: ReplyOptions): string[] {
  return ['-- ', `kmap-review ${opts.toolVersion}: automated review of kmap() to kmap_local_page() conversions`];
}

/** One reply as an mbox message (with its `From ` separator line), or null when nothing is to be said. */
export function renderReply(report: Report, cs: ChangeSet, opts: ReplyOptions): string | null {
  const findings = report.findings.filter((f) => (!f.preExisting || opts.includePreExisting) && (f.severity !== 'notice' || opts.notices));
  if (findings.length === 0 && !(opts.replyWhenClean && report.files.length > 0)) return null;
  const mail = cs.mail;
  const subject = (mail?.subject ?? cs.name).replace(/\s+/g, ' ').trim();
  const sender = bareAddress(opts.from);
  const to = mail?.from ? [mail.from] : [];
  const seen = new Set([sender, ...to.map(bareAddress)]);
  const cc: string[] = [];
  for (const a of [...splitAddresses(mail?.to), ...splitAddresses(mail?.cc)]) {
    const b = bareAddress(a);
    if (seen.has(b)) continue;
    seen.add(b);
    cc.push(a);
  }
  const headers: string[] = [
    foldHeader('From', opts.from),
    ...(to.length ? [foldHeader('To', to.join(', '))] : []),
    ...(cc.length ? [foldHeader('Cc', cc.join(', '))] : []),
    foldHeader('Subject', encodeWord(/^re:/i.test(subject) ? subject : `Re: ${subject}`)),
    `Date: ${rfc2822Date(opts.now)}`,
    `Message-ID: ${newMessageId(opts.from, opts.now)}`,
  ];
  const id = messageIds(mail?.messageId)[0];
  if (id) {
    const refs = [...messageIds(mail?.references), ...(mail?.references ? [] : messageIds(mail?.inReplyTo)), id];
    headers.push(`In-Reply-To: ${id}`, foldHeader('References', [...new Set(refs)].join(' ')));
  }
  headers.push('MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: 8bit');
  const text =
    findings.length === 0
      ? [`Hi ${(mail?.from ? displayName(mail.from, decodeWords) : '').split(/\s+/)[0] || 'there'},`, '', `No kmap issues found in this patch (${plural(report.files.reduce((n, f) => n + f.functionsAnalysed, 0), 'function')} analysed).`, '']
      : body(cs, findings, opts);
  // mboxrd: a body line that starts with (any number of '>' and) "From " gets one more '>'.
  const lines = [...text, ...footer(opts)].map((l) => (/^>*From /.test(l) ? `>${l}` : l));
  return ['From kmap-review Mon Sep 17 00:00:00 2001', ...headers, '', ...lines, ''].join('\n') + '\n';
}

/** The mbox of replies, in patch order ('' when no patch needs one). */
export function renderReplies(reports: readonly Report[], changeSets: readonly ChangeSet[], opts: ReplyOptions): string {
  const out: string[] = [];
  reports.forEach((r, i) => {
    const m = renderReply(r, changeSets[i]!, opts);
    if (m !== null) out.push(m);
  });
  return out.join('');
}
