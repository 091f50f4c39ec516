/** Replies to `/kmap-review ...` comment commands. */
import { code, fence } from './markdown.js';
import type { RuleInfo } from './review.js';

export const COMMAND_PREFIX = '/kmap-review';

export function renderHelp(): string {
  return [
    '**kmap-review** commands (one per comment, at the start of a line):',
    '',
    '| command | what it does | who |',
    '|---|---|---|',
    '| `/kmap-review recheck` | analyse the current head of this pull request again | write, maintain or admin |',
    '| `/kmap-review explain RULE` | show what rule `RULE` finds, why, an example and the fix | anyone |',
    '| `/kmap-review help` | this message | anyone |',
    '',
    'The **Re-run** button of the `kmap-review` check does the same as `recheck`. ' +
      'Configuration: `.github/kmap-review.yml` on the default branch.',
  ].join('\n');
}

export function renderExplain(rule: RuleInfo): string {
  return `### ${code(rule.id)}: ${rule.summary}\n\n${rule.doc.trim()}`;
}

export function renderUnknownRule(name: string, known: readonly string[]): string {
  const list = known.length > 0 ? known.map((k) => `- ${code(k)}`).join('\n') : '_(no rules are loaded)_';
  return `I don't know the rule ${code(name)}. The rules are:\n\n${list}`;
}

export function renderExplainUsage(known: readonly string[]): string {
  return `Usage: ${fence('/kmap-review explain RULE')}\n\n${renderUnknownRule('', known).split('\n').slice(2).join('\n')}`;
}

export function renderNotAllowed(login: string, permission: string): string {
  return (
    `Sorry @${login}, only people with write, maintain or admin permission on this repository can run ` +
    `${code('/kmap-review recheck')} (yours: ${permission}). A maintainer can run it, or use the check's **Re-run** button.`
  );
}

export function renderClosed(): string {
  return 'This pull request is closed: nothing to recheck.';
}

export function renderUnknownCommand(verb: string): string {
  return `I don't know ${code(`/kmap-review ${verb}`)}. Try ${code('/kmap-review help')}.`;
}
