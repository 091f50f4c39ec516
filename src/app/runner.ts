/**
 * Where the analysis runs. The webhook handlers never run the engine on the event loop of the HTTP server:
 * production uses a small pool of worker threads (`WorkerThreadRunner`), tests use `InProcessRunner`.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { ChangeSet, EngineConfig, Report } from '../analysis/model.js';
import { loadAnalyze } from './engine.js';
import { AnalysisTimeout } from './limits.js';

export interface AnalyzeOptions {
  /** Give up after this long (AnalysisTimeout); a worker thread still running is replaced. */
  timeoutMs?: number;
}

export interface AnalysisRunner {
  analyze(changeSet: ChangeSet, config: EngineConfig, options?: AnalyzeOptions): Promise<Report>;
  close(): Promise<void>;
}

export type AnalyzeFn = (changeSet: ChangeSet, config: EngineConfig) => Promise<Report>;

/** Runs the engine in this thread (tests, `probot receive`, small installations). */
export class InProcessRunner implements AnalysisRunner {
  #analyze: AnalyzeFn | undefined;
  constructor(analyze?: AnalyzeFn) {
    this.#analyze = analyze;
  }
  async analyze(changeSet: ChangeSet, config: EngineConfig, options: AnalyzeOptions = {}): Promise<Report> {
    if (!this.#analyze) {
      this.#analyze = await loadAnalyze();
    }
    const work = this.#analyze(changeSet, config);
    if (options.timeoutMs === undefined) return work;
    // The main thread cannot stop its own synchronous work; this only stops waiting (tests, debugging).
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AnalysisTimeout(options.timeoutMs!)), Math.max(0, options.timeoutMs!));
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
  async close(): Promise<void> {}
}

/** Messages exchanged with the worker (see analysis-worker.ts). ChangeSet's Sets survive structured clone. */
export interface WorkerRequest {
  id: number;
  changeSet: ChangeSet;
  config: EngineConfig;
}
export type WorkerResponse = { id: number; ok: true; report: Report } | { id: number; ok: false; error: string };

interface Task {
  request: WorkerRequest;
  timeoutMs: number;
  resolve: (r: Report) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
}

export interface WorkerThreadRunnerOptions {
  /** The worker script; defaults to the compiled analysis-worker.js next to this file. */
  workerUrl?: URL;
  /** Number of worker threads (default min(4, cores - 1), at least 1; the App passes KMAP_REVIEW_WORKERS). */
  size?: number;
  /** A task that runs longer than this is abandoned and its worker replaced (default 120 s). */
  timeoutMs?: number;
}

/** A fixed-size pool of worker threads, created lazily, each running one analysis at a time. */
export class WorkerThreadRunner implements AnalysisRunner {
  readonly #url: URL;
  readonly #size: number;
  readonly #timeoutMs: number;
  readonly #slots: Slot[] = [];
  readonly #waiting: Task[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: WorkerThreadRunnerOptions = {}) {
    this.#url = options.workerUrl ?? new URL('./analysis-worker.js', import.meta.url);
    this.#size = Math.max(1, options.size ?? Math.min(4, availableParallelism() - 1));
    this.#timeoutMs = options.timeoutMs ?? 120_000;
  }

  analyze(changeSet: ChangeSet, config: EngineConfig, options: AnalyzeOptions = {}): Promise<Report> {
    if (this.#closed) return Promise.reject(new Error('analysis runner is closed'));
    const timeoutMs = Math.max(0, Math.min(this.#timeoutMs, options.timeoutMs ?? Infinity));
    return new Promise<Report>((resolve, reject) => {
      this.#waiting.push({ request: { id: this.#nextId++, changeSet, config }, timeoutMs, resolve, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#waiting.length > 0) {
      let slot = this.#slots.find((s) => s.task === undefined);
      if (!slot && this.#slots.length < this.#size) slot = this.#spawn();
      if (!slot) return;
      const task = this.#waiting.shift()!;
      this.#run(slot, task);
    }
  }

  #spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.#url), task: undefined };
    slot.worker.unref();
    slot.worker.on('message', (msg: WorkerResponse) => {
      const task = slot.task;
      if (!task || task.request.id !== msg.id) return;
      this.#finish(slot);
      if (msg.ok) task.resolve(msg.report);
      else task.reject(new Error(msg.error));
    });
    const fail = (err: Error): void => {
      const task = slot.task;
      this.#remove(slot);
      if (task) task.reject(err);
      this.#dispatch();
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => {
      if (this.#slots.includes(slot)) fail(new Error(`analysis worker exited with code ${code}`));
    });
    this.#slots.push(slot);
    return slot;
  }

  #timers = new Map<Slot, NodeJS.Timeout>();

  #run(slot: Slot, task: Task): void {
    slot.task = task;
    slot.worker.ref();
    const timer = setTimeout(() => {
      this.#remove(slot);
      void slot.worker.terminate();
      task.reject(new AnalysisTimeout(task.timeoutMs));
      this.#dispatch();
    }, task.timeoutMs);
    timer.unref();
    this.#timers.set(slot, timer);
    slot.worker.postMessage(task.request);
  }

  #finish(slot: Slot): void {
    clearTimeout(this.#timers.get(slot));
    this.#timers.delete(slot);
    slot.task = undefined;
    slot.worker.unref();
    queueMicrotask(() => this.#dispatch());
  }

  #remove(slot: Slot): void {
    clearTimeout(this.#timers.get(slot));
    this.#timers.delete(slot);
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#waiting.splice(0)) t.reject(new Error('analysis runner is closed'));
    const slots = this.#slots.splice(0);
    await Promise.all(slots.map(async (s) => {
      clearTimeout(this.#timers.get(s));
      s.task?.reject(new Error('analysis runner is closed'));
      await s.worker.terminate();
    }));
  }
}

/** The production default: worker threads (KMAP_REVIEW_WORKERS of them), unless KMAP_REVIEW_IN_PROCESS=1. */
export function defaultRunner(settings: { inProcess: boolean; workers?: number }): AnalysisRunner {
  return settings.inProcess ? new InProcessRunner() : new WorkerThreadRunner(settings.workers !== undefined ? { size: settings.workers } : {});
}
