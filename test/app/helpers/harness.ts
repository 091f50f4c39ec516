/** A Probot instance with the App loaded, an injected analyzer and the job queue the test can await. */
import { Probot, ProbotOctokit } from 'probot';
import type { ChangeSet, EngineConfig, Finding, Report } from '../../../src/analysis/model.js';
import { createApp, type AppOptions } from '../../../src/app/index.js';
import { EmbeddedQueue } from '../../../src/app/queue/embedded.js';
import { InProcessRunner, type AnalyzeFn } from '../../../src/app/runner.js';
import type { RuleCatalog } from '../../../src/app/scheduler.js';

export const TestOctokit = ProbotOctokit.defaults((o: Record<string, unknown>) => ({
  ...o,
  retry: { enabled: false },
  throttle: { enabled: false },
}));

export const RULES: RuleCatalog = {
  find: (id) =>
    id === 'unmap-order'
      ? { id, summary: 'kunmap_local() calls must be in reverse order of mapping.', doc: '## What it finds\nNon-LIFO unmaps.\n\n## Fix\nUnmap in reverse order.' }
      : id === 'mismatched-unmap'
        ? { id, summary: 'The unmap call does not match the map call.', doc: '## What it finds\nkmap_local_page() undone by kunmap_atomic().' }
        : undefined,
  ids: () => ['unmap-order', 'mismatched-unmap'],
};

export function finding(over: Partial<Finding> & Pick<Finding, 'line'>): Finding {
  return {
    rule: 'unmap-order',
    severity: 'error',
    path: 'mm/xor_pages.c',
    endLine: over.line,
    message: "'vsrc' is unmapped before 'vdst', which was mapped after it",
    trace: [
      { path: 'mm/xor_pages.c', line: 12, note: 'vsrc = kmap_local_page(src)' },
      { path: 'mm/xor_pages.c', line: 13, note: 'vdst = kmap_local_page(dst)' },
    ],
    fix: null,
    function: 'xor_pages',
    preExisting: false,
    fingerprint: `fp-${over.rule ?? 'unmap-order'}-${over.line}`,
    ...over,
  };
}

/** An analyzer returning `findings` (a function of the change set, or a fixed list). */
export function fakeAnalyzer(findings: Finding[] | ((cs: ChangeSet) => Finding[])): AnalyzeFn & { calls: ChangeSet[]; configs: EngineConfig[] } {
  const calls: ChangeSet[] = [];
  const configs: EngineConfig[] = [];
  const fn = async (cs: ChangeSet, config: EngineConfig): Promise<Report> => {
    calls.push(cs);
    configs.push(config);
    return {
      name: cs.name,
      findings: typeof findings === 'function' ? findings(cs) : findings,
      files: cs.files.map((f) => ({ path: f.newPath ?? f.oldPath ?? '', functionsAnalysed: 2 })),
      skipped: cs.skipped,
      gaps: [],
    };
  };
  return Object.assign(fn, { calls, configs });
}

export function makeProbot(analyze: AnalyzeFn, rules: RuleCatalog = RULES, options: AppOptions = {}): { probot: Probot; queue: EmbeddedQueue; loaded: Promise<void> } {
  // No waiting between attempts: retries are tested for what they do, not for how long they sleep.
  const queue = new EmbeddedQueue({ concurrency: 2, maxAttempts: options.retry?.attempts ?? 3 });
  const probot = new Probot({ githubToken: 'test', Octokit: TestOctokit, logLevel: 'fatal' as const });
  const loaded = probot.load(createApp({ runner: new InProcessRunner(analyze), queue, rules, retry: { attempts: 3, baseDelayMs: 0, maxDelayMs: 0 }, engineVersion: async () => 'test', ...options }));
  return { probot, queue, loaded };
}
