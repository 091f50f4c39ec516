/**
 * The repo-wide status: on a push to the default branch, the `kmap-review / tree` check run with every
 * remaining kmap_atomic()/kmap() use classified, the trend against the previous default-branch result
 * (new uses fail it), the top directories and the list of uses that need a human. Split like the review:
 * this job (life cycle: check-job.ts), the input (tree/scan-repository.ts: listing, cache, tarball or
 * blobs, scan), the output (tree/publish.ts: trend, baseline, history, check run).
 */
import type { Logger } from 'probot';
import { toEngineConfig } from '../config/repo-config.js';
import { runCheckJob, type CheckJobServices } from './check-job.js';
import { loadRepoConfig } from './config-loader.js';
import type { Limits } from './limits.js';
import type { JobContext, ReviewJob } from './queue/types.js';
import type { RuleCatalog } from './scheduler.js';
import type { TreeCache } from './tree/blob-cache.js';
import { TREE_RUN } from './tree/check-run.js';
import type { TreeOptions } from './tree/options.js';
import { publishTreeResult } from './tree/publish.js';
import { scanRepository } from './tree/scan-repository.js';

export interface TreeServices extends CheckJobServices {
  rules: () => Promise<RuleCatalog>;
  cache: TreeCache;
  limits: Limits;
  log: Logger;
  engineVersion: () => Promise<string>;
  options: TreeOptions;
}

export type TreeOutcome = 'done' | 'superseded' | 'already-done' | 'failed';

export class TreeWorker {
  constructor(readonly services: TreeServices) {}

  async process(job: ReviewJob, ctx: JobContext): Promise<TreeOutcome> {
    const s = this.services;
    const { owner, repo, headSha } = job;
    const log = s.log.child({ tree: `${owner}/${repo}`, sha: headSha.slice(0, 12), attempt: ctx.attempt });
    const started = Date.now();
    return runCheckJob<undefined, TreeOutcome>({
      what: 'kmap-review tree scan', run: TREE_RUN, alreadyDone: 'already-done',
      work: async ({ octokit, checkRunId }) => {
        const catalog = await s.rules();
        const loaded = await loadRepoConfig(octokit, owner, repo, catalog.ids());
        const engineConfig = toEngineConfig(loaded.config);
        const maxFileBytes = Math.min(s.limits.maxFileBytes, loaded.config.maxFileBytes);
        const result = await scanRepository(
          { cache: s.cache, options: s.options, log, engineVersion: await s.engineVersion(), ctx },
          { octokit, owner, repo, headSha }, loaded.config, engineConfig, maxFileBytes,
        );
        const { scan, out } = await publishTreeResult({
          octokit, cache: s.cache, options: s.options, ctx, owner, repo, headSha, before: job.baseSha || null, checkRunId,
          engineConfig, configProblems: loaded.problems, started,
        }, result);
        log.info({ sites: scan.sites.length, conclusion: out.conclusion, ...result.stats, ms: Date.now() - started }, 'kmap-review tree scan done');
        return 'done';
      },
    }, job, ctx, s, log);
  }
}
