/**
 * Tree summaries for one patch or a few files (`check --tree`, `fix`): the analysis runs first with the
 * file's own functions only, collecting the other files' callees its atomic sections reach (the asks);
 * only when there are asks is the tree indexed (every C file read once, as the scan does, then kept for
 * the process), and only when one of the asks has a fact a rule can use is the analysis run again with
 * the tree's summaries. A patch whose sections call nothing of another file never reads the tree.
 */
import { readFileSync } from 'node:fs';
import type { KmapApi } from '../kmap-api.js';
import { listCFiles, readBounded } from '../scan/sources.js';
import { CalleeSummaries } from './context.js';
import { HashedDefinitionIndex } from './definitions.js';
import { TreeDefinitions } from './tree.js';

/** The callee options an analysis takes (RuleContext.callees / calleeAsks). */
export interface CalleeRun {
  callees?: CalleeSummaries;
  calleeAsks?: Set<string>;
}

const MAX_BYTES = 8 << 20;

/** A directory's summaries, indexed on first use. */
export class OnDemandTree {
  private summaries: CalleeSummaries | null = null;
  private readonly relevant = new Map<string, boolean>();
  /** Index build time, ms (0 until built). */
  indexMs = 0;

  /** True once the tree has been indexed. */
  get indexed(): boolean {
    return this.summaries !== null;
  }

  constructor(
    readonly root: string,
    private readonly api: KmapApi,
  ) {}

  /** The tree's summaries (indexing the tree the first time). */
  get(): CalleeSummaries {
    if (this.summaries) return this.summaries;
    const t0 = performance.now();
    const index = new HashedDefinitionIndex();
    const prefix = this.root.endsWith('/') ? this.root : `${this.root}/`;
    const scratch = { buf: Buffer.allocUnsafe(1 << 20) };
    for (const path of listCFiles(this.root)) {
      try {
        const bytes = readBounded(prefix + path, scratch, MAX_BYTES);
        if (bytes) index.add(path, bytes);
      } catch {
        // unreadable: no definitions from it
      }
    }
    this.indexMs = Math.round(performance.now() - t0);
    this.summaries = new CalleeSummaries(this.api, new TreeDefinitions(index, (p) => readFileSync(prefix + p, 'utf8')));
    return this.summaries;
  }

  /** Whether any of `asks`, called from `path`, has a fact a rule can use (a need, a sleep, a callback it calls). */
  matters(asks: Iterable<string>, path: string): boolean {
    let any = false;
    for (const name of asks) {
      let r = this.relevant.get(name);
      if (r === undefined) {
        let s;
        try {
          s = this.get().ofCall(name, { path, defs: () => [] });
        } catch {
          s = undefined;
        }
        r = !!s && (s.needs.length > 0 || s.sleep !== null || s.callsParams.length > 0);
        this.relevant.set(name, r);
      }
      any ||= r;
    }
    return any;
  }

  /**
   * Runs `analyse` with the file's own functions, and again with the tree's summaries when what it asked
   * about has facts: the second result when there was one, else the first.
   */
  run<T>(path: string, analyse: (o: CalleeRun) => T): T {
    const asks = new Set<string>();
    const first = analyse({ calleeAsks: asks });
    if (!asks.size || !this.matters(asks, path)) return first;
    return analyse({ callees: this.get() });
  }
}
