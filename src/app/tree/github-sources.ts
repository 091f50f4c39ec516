/**
 * The bytes of the blobs the cache does not have: read from the repository tarball (streamed once, each
 * file's git blob SHA computed locally) when there are many, from the blobs API when there are few.
 */
import type { Logger } from 'probot';
import { gitBlobSha } from '../../analysis/scan/blob-sha.js';
import { stopIfSuperseded } from '../check-job.js';
import type { GitHub } from '../collect.js';
import type { JobContext } from '../queue/types.js';
import { mapLimit } from '../map-limit.js';
import type { TreeBlob } from './listing.js';
import type { TreeOptions } from './options.js';
import { tarGzEntries } from './tar.js';

export interface RepoAt {
  octokit: GitHub;
  owner: string;
  repo: string;
  headSha: string;
}

/** Streams the repository tarball at `ref` (GitHub answers with a redirect to codeload). */
export async function downloadTarball(octokit: GitHub, owner: string, repo: string, ref: string, timeoutMs: number): Promise<ReadableStream<Uint8Array>> {
  const signal = AbortSignal.timeout(timeoutMs);
  const res = await octokit.request('GET /repos/{owner}/{repo}/tarball/{ref}', {
    owner, repo, ref, request: { redirect: 'manual', parseSuccessResponseBody: false, signal },
  });
  let body = res.data as unknown as ReadableStream<Uint8Array> | null;
  const status = res.status as number;
  if (status >= 300 && status < 400) {
    const location = (res.headers as Record<string, string | undefined>).location;
    await body?.cancel().catch(() => undefined);
    if (!location) throw new Error(`the tarball request answered ${status} without a location`);
    const r = await fetch(location, { signal });
    if (!r.ok || !r.body) {
      await r.body?.cancel().catch(() => undefined);
      throw Object.assign(new Error(`the tarball download answered ${r.status}`), { status: r.status });
    }
    body = r.body;
  }
  if (!body) throw new Error('the tarball request returned no body');
  return body;
}

export async function fetchBlob(octokit: GitHub, owner: string, repo: string, sha: string): Promise<Buffer> {
  const { data } = await octokit.rest.git.getBlob({ owner, repo, file_sha: sha });
  return data.encoding === 'base64' ? Buffer.from(data.content, 'base64') : Buffer.from(data.content, 'utf8');
}

/** Where the bytes came from, for the summary. */
export interface ReadCounts {
  fromTarball: number;
  fromBlobs: number;
}

/** A file's bytes; `cacheable` is false when they are not the blob's (an export filter in the tarball). */
export type TakeFile = (blob: TreeBlob, bytes: Buffer, cacheable: boolean) => Promise<void>;

/**
 * Hands the bytes of every blob of `wanted` to `take` (in the tarball's order or the list's), and those of
 * `extra` (MAINTAINERS, when the cache lacks it) to `takeExtra`. Stops with Superseded when a newer
 * push arrives while the tarball is read.
 */
export async function readBlobs(
  at: RepoAt, wanted: readonly TreeBlob[], options: Pick<TreeOptions, 'tarballThreshold' | 'blobConcurrency' | 'tarballTimeoutMs'>,
  take: TakeFile, extra: { blob: TreeBlob; take: (bytes: Buffer) => Promise<void> } | undefined,
  ctx: Pick<JobContext, 'isSuperseded'>, log: Pick<Logger, 'info' | 'warn'>,
): Promise<ReadCounts> {
  const counts: ReadCounts = { fromTarball: 0, fromBlobs: 0 };
  let extraDone = !extra;
  const fromBlobs = async (blobs: readonly TreeBlob[]) => {
    await mapLimit(blobs, options.blobConcurrency, async (b) => {
      const bytes = await fetchBlob(at.octokit, at.owner, at.repo, b.sha);
      counts.fromBlobs++;
      await take(b, bytes, gitBlobSha(bytes) === b.sha);
    });
  };

  if (wanted.length > options.tarballThreshold) {
    log.info({ uncached: wanted.length, threshold: options.tarballThreshold }, 'tree scan: reading the tarball');
    const byPath = new Map(wanted.map((b) => [b.path, b]));
    const seen = new Set<string>();
    let mismatched = 0;
    let entries = 0;
    const body = await downloadTarball(at.octokit, at.owner, at.repo, at.headSha, options.tarballTimeoutMs);
    for await (const e of tarGzEntries(body, { stripFirst: true })) {
      if (e.type !== 'file') continue;
      if (++entries % 5000 === 0) await stopIfSuperseded(ctx);
      if (extra && !extraDone && e.path === extra.blob.path) {
        await extra.take(await e.read());
        extraDone = true;
        continue;
      }
      const b = byPath.get(e.path);
      if (!b || seen.has(e.path)) continue;
      seen.add(e.path);
      const bytes = await e.read();
      const same = gitBlobSha(bytes) === b.sha;
      if (!same) mismatched++;
      counts.fromTarball++;
      await take(b, bytes, same);
    }
    if (mismatched) log.warn({ mismatched }, 'tree scan: tarball files differ from their blobs (export filters?): scanned, not cached');
    const missing = wanted.filter((b) => !seen.has(b.path));
    if (missing.length) {
      log.warn({ missing: missing.length }, 'tree scan: files listed in the tree are missing from the tarball: fetching them as blobs');
      await fromBlobs(missing);
    }
  } else {
    await fromBlobs(wanted);
  }
  if (extra && !extraDone) await extra.take(await fetchBlob(at.octokit, at.owner, at.repo, extra.blob.sha));
  return counts;
}
