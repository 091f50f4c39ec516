/**
 * Analysis results keyed by what the engine saw: every file's (base blob SHA, head blob SHA), the engine
 * and tool versions and the engine configuration. A recheck of an unchanged pull request, a retry after a
 * GitHub error and a re-delivery do no parsing at all. In memory (LRU) by default, Redis when configured
 * so that several App instances share it.
 */
import { createHash } from 'node:crypto';
import { configHash } from '../analysis/config-hash.js';
import type { EngineConfig, Report, SkippedFile } from '../analysis/model.js';

export interface ResultCache {
  get(key: string): Promise<Report | undefined>;
  set(key: string, report: Report): Promise<void>;
}

export interface CachedFile {
  oldPath: string | null;
  newPath: string | null;
  baseSha: string | null;
  headSha: string | null;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** The cache key, or undefined when a file's blob SHA is unknown (then nothing is cached). */
export function analysisKey(files: CachedFile[], skipped: SkippedFile[], engineVersion: string, config: EngineConfig): string | undefined {
  for (const f of files) {
    if ((f.oldPath !== null && !f.baseSha) || (f.newPath !== null && !f.headSha)) return undefined;
  }
  const parts = files
    .map((f) => `${f.oldPath ?? ''}\0${f.baseSha ?? ''}\0${f.newPath ?? ''}\0${f.headSha ?? ''}`)
    .sort();
  const skip = skipped.map((s) => `${s.path}\0${s.reason}`).sort();
  return `v${engineVersion}:${configHash(config)}:${sha256(JSON.stringify([parts, skip]))}`;
}

/** A bounded least-recently-used map (Map keeps insertion order; a hit moves the entry to the end). */
export class LruCache implements ResultCache {
  readonly #max: number;
  readonly #map = new Map<string, string>();
  hits = 0;
  misses = 0;

  constructor(maxEntries = 500) {
    this.#max = Math.max(1, maxEntries);
  }

  async get(key: string): Promise<Report | undefined> {
    const v = this.#map.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.#map.delete(key);
    this.#map.set(key, v);
    this.hits++;
    // Stored serialised: a caller mutating its report cannot change the cached one.
    return JSON.parse(v) as Report;
  }

  async set(key: string, report: Report): Promise<void> {
    this.#map.delete(key);
    this.#map.set(key, JSON.stringify(report));
    while (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }

  get size(): number {
    return this.#map.size;
  }
}

/** The subset of an ioredis client the cache uses (BullMQ hands one out). */
export interface RedisLike {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, mode: 'EX', seconds: number): Promise<unknown>;
}

export class RedisCache implements ResultCache {
  constructor(readonly client: () => Promise<RedisLike>, readonly prefix = 'kmap-review:cache:', readonly ttlSeconds = 7 * 24 * 3600) {}

  async get(key: string): Promise<Report | undefined> {
    try {
      const v = await (await this.client()).get(this.prefix + key);
      return v ? (JSON.parse(v) as Report) : undefined;
    } catch {
      return undefined; // a cache outage only costs a re-analysis
    }
  }

  async set(key: string, report: Report): Promise<void> {
    try {
      await (await this.client()).set(this.prefix + key, JSON.stringify(report), 'EX', this.ttlSeconds);
    } catch {
      /* see get() */
    }
  }
}
