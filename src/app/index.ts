/**
 * The kmap-review GitHub App (Probot 14). `probot run ./dist/app/index.js` loads the default export.
 * Handlers (src/handlers) adapt events; the scheduler queues reviews; the engine runs in worker threads.
 */
import type { ApplicationFunction, Probot } from 'probot';
import { registerCheckRun } from '../handlers/check-run.js';
import { registerIssueComment } from '../handlers/issue-comment.js';
import { registerPullRequest } from '../handlers/pull-request.js';
import { JobQueue } from './queue.js';
import { defaultRunner, type AnalysisRunner } from './runner.js';
import { ReviewScheduler, type RuleCatalog } from './scheduler.js';

export interface AppOptions {
  runner?: AnalysisRunner;
  queue?: JobQueue;
  /** The rule registry (defaults to the engine's src/analysis/rules). */
  rules?: RuleCatalog;
}

async function loadEngineRules(): Promise<RuleCatalog> {
  const mod = await import('../analysis/rules/index.js');
  const info = (r: { meta: { id: string; summary: string; doc: string } }) => ({ id: r.meta.id, summary: r.meta.summary, doc: r.meta.doc });
  return {
    find: (id) => {
      const r = mod.findRule(id);
      return r ? info(r) : undefined;
    },
    ids: () => mod.allRules.map((r: { meta: { id: string } }) => r.meta.id),
  };
}

export function createApp(options: AppOptions = {}): ApplicationFunction {
  return (app: Probot) => {
    const queue = options.queue ?? new JobQueue({ concurrency: Number(process.env.KMAP_REVIEW_CONCURRENCY) || 2, log: app.log });
    const runner = options.runner ?? defaultRunner();
    let catalog: Promise<RuleCatalog> | undefined = options.rules ? Promise.resolve(options.rules) : undefined;
    const rules = () => (catalog ??= loadEngineRules());
    const scheduler = new ReviewScheduler({ runner, queue, rules });

    registerPullRequest(app, scheduler);
    registerIssueComment(app, scheduler, rules);
    registerCheckRun(app, scheduler);
    app.log.info('kmap-review loaded');
  };
}

const kmapReview: ApplicationFunction = createApp();
export default kmapReview;
