/**
 * Files that mention the mapping API wait here and are scanned a batch at a time (about
 * `scanBatchBytes` each: bounds memory on a first run), on worker threads at background priority
 * unless KMAP_REVIEW_IN_PROCESS=1, so webhooks come first. The others are settled at once (m: 0). A file
 * over `maxFileBytes` is not analysed, but the scan counts its deprecated calls lexically (`uses`), as
 * `scan --baseline` does, so that it keeps counting in the trend.
 */
import type { EngineConfig } from '../../analysis/model.js';
import { stopIfSuperseded } from '../check-job.js';
import type { loadScanner } from '../engine.js';
import type { JobContext } from '../queue/types.js';
import type { BlobResult, ScannedFile } from './blob-cache.js';
import type { TreeBlob } from './listing.js';
import type { TreeOptions } from './options.js';

type Scanner = Awaited<ReturnType<typeof loadScanner>>;

export interface ScanBatchesInit {
  scanner: Pick<Scanner, 'scanTree' | 'mayMentionApi' | 'KmapApi'>;
  name: string;
  engineConfig: EngineConfig;
  maxFileBytes: number;
  options: Pick<TreeOptions, 'inProcess' | 'jobs' | 'scanBatchBytes'>;
  ctx: Pick<JobContext, 'isSuperseded'>;
  /** Each file's result, with its bytes (for the offered patch) and whether the result may be cached. */
  settle: (blob: TreeBlob, result: BlobResult, bytes: Buffer, cacheable: boolean) => Promise<void>;
}

export class ScanBatches {
  readonly #wrappers: Parameters<Scanner['mayMentionApi']>[1];
  #batch: Array<{ blob: TreeBlob; bytes: Buffer; cacheable: boolean }> = [];
  #bytes = 0;

  constructor(readonly init: ScanBatchesInit) {
    this.#wrappers = new init.scanner.KmapApi(init.engineConfig).wrapperNames();
  }

  /** `cacheable` is false when the bytes are not the blob's (an export filter in the tarball). */
  async add(blob: TreeBlob, bytes: Buffer, cacheable: boolean): Promise<void> {
    if (!this.init.scanner.mayMentionApi(bytes, this.#wrappers)) {
      await this.init.settle(blob, { m: 0 }, bytes, cacheable);
      return;
    }
    this.#batch.push({ blob, bytes, cacheable });
    this.#bytes += bytes.length;
    if (this.#bytes >= this.init.options.scanBatchBytes) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#batch.length === 0) return;
    const items = this.#batch;
    this.#batch = [];
    this.#bytes = 0;
    await stopIfSuperseded(this.init.ctx);
    const { options, engineConfig, maxFileBytes } = this.init;
    const r = await this.init.scanner.scanTree(
      { kind: 'texts', name: this.init.name, items: items.map((i) => ({ path: i.blob.path, bytes: i.bytes })) },
      // scanTree counts this thread too (it only prefilters here): `jobs` workers analyse.
      { config: engineConfig, jobs: options.inProcess ? 1 : options.jobs + 1, maxBytes: maxFileBytes, background: !options.inProcess },
    );
    const out = new Map<string, ScannedFile>(items.map((i) => [i.blob.path, { m: 1, sites: [], findings: [] }]));
    for (const site of r.sites) out.get(site.path)?.sites.push(site);
    for (const f of r.findings) out.get(f.path)?.findings.push(f);
    for (const k of r.files.skipped) {
      const e = out.get(k.path);
      if (!e) continue;
      e.skipped = k.reason;
      if (k.uses !== undefined) e.uses = k.uses;
    }
    for (const i of items) await this.init.settle(i.blob, out.get(i.blob.path)!, i.bytes, i.cacheable);
  }
}
