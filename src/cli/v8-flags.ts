/**
 * V8 flags for a kmap-review process (set by main.ts, the process entry; never by the App or the tests).
 *
 * A kmap-review process is over in seconds, and with V8's defaults its optimising compiler (TurboFan)
 * compiled, and after deoptimisations recompiled, hundreds of functions in each analysing thread: a third of
 * a tree scan's CPU time on Linux 6.1. A larger interrupt budget optimises only the functions that stay hot
 * well after start-up, and without inlining each compile is smaller (JIT_FLAGS); a scavenge on one thread
 * leaves the other core to the other analysing thread (GC_FLAGS). A batch of reviews takes ~10 % less, one
 * review the same (bench/README.md).
 *
 * A scan sets JIT_FLAGS only once its reading loop has been optimised (scanTree's `onReadWarm`): that loop
 * calls Node's small fs wrappers 200,000 times, and without inlining them it read Linux 6.1 ~25 % slower
 * (120 ms). V8 reads these flags whenever it compiles, so a flag set later applies to everything compiled
 * from then on, in worker threads too. They are set after the bundle is compiled: V8 flags are part of the
 * code cache's key (scripts/cli-loader.cjs), and the cache is made without them.
 */
import { setFlagsFromString } from 'node:v8';

export const JIT_FLAGS: readonly string[] = ['--interrupt-budget=800000', '--no-turbo-inlining'];
export const GC_FLAGS: readonly string[] = ['--no-parallel-scavenge'];

/**
 * How V8 compiles the tree-sitter WASM. A review parses a few functions: the baseline compiler only. By
 * default V8 also re-compiles hot WASM functions with its optimising compiler on a background thread, and
 * Node waits for those jobs before the process exits: 50-70 ms for one patch, far more than they save (also
 * in a 158-patch batch). A tree scan parses ~1 MB of functions in each analysing thread: there the
 * optimising compiler alone, each WASM function compiled once when first called, saves ~3 % of the wall
 * time (bench/README.md). Must be set before the parser is initialised; the loader sets --liftoff-only
 * earlier still (it is part of the code cache key), so a scan turns it off again.
 */
const REVIEW_WASM_FLAGS: readonly string[] = ['--liftoff-only'];
const SCAN_WASM_FLAGS: readonly string[] = ['--no-liftoff-only', '--no-liftoff'];

let deferredJitFlags = false;

/**
 * Set by scripts/cli-code-cache.cjs while it runs the review that fills the code cache: V8 records its
 * flags in the cache and rejects it under others, so that run keeps the flags the loader has when it loads
 * the cache (a cache made under these flags was rejected, and every review took ~10 ms longer).
 */
declare global {
  var __kmapCodeCacheTraining: boolean | undefined;
}

function setV8Flags(flags: readonly string[]): void {
  for (const flag of flags) setFlagsFromString(flag);
}

/** For the command about to run (`scan` or any other); JIT_FLAGS wait for jitFlagsForAnalysis() in a scan. */
export function setProcessFlags(command: string | undefined): void {
  if (globalThis.__kmapCodeCacheTraining) return;
  if (command === 'scan') {
    setV8Flags([...SCAN_WASM_FLAGS, ...GC_FLAGS]);
    deferredJitFlags = true;
  } else setV8Flags([...REVIEW_WASM_FLAGS, ...GC_FLAGS, ...JIT_FLAGS]);
}

/** The scan's reading loop is optimised: JIT_FLAGS from here on (only in a process whose entry deferred them). */
export function jitFlagsForAnalysis(): void {
  if (!deferredJitFlags) return;
  deferredJitFlags = false;
  setV8Flags(JIT_FLAGS);
}
