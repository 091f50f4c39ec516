#!/usr/bin/env node
/**
 * The `kmap-review` process. The build bundles this file and everything it imports into
 * dist/cli/kmap-review-bundle.cjs, loaded by dist/cli/kmap-review.cjs (the `bin`; see scripts/build-cli.mjs);
 * `node dist/cli/main.js` runs the same code unbundled. Start-up time matters here (one process per
 * patch is benchmarked against checkpatch.pl, bench/README.md), hence the V8 flags and direct writes below.
 */
import { readFileSync, writeSync } from 'node:fs';
import { internalErrorLine, runCli } from './cli.js';
import { setProcessFlags } from './v8-flags.js';

// Before anything is compiled for the command (v8-flags.ts says which and why).
setProcessFlags(process.argv[2]);

/**
 * Writes to fd directly: the first use of process.stdout/stderr loads Node's stream modules (2-3 ms). A
 * non-blocking descriptor (EAGAIN) hands the rest, and everything after it, to the stream, in order; a
 * closed pipe (EPIPE, e.g. `| head`) drops the rest of the output.
 */
function writer(fd: number, stream: () => NodeJS.WriteStream): (s: string) => void {
  let mode: 'fd' | 'stream' | 'closed' = 'fd';
  return (s) => {
    if (mode === 'stream') stream().write(s);
    if (mode !== 'fd') return;
    const buf = Buffer.from(s);
    let off = 0;
    try {
      while (off < buf.length) off += writeSync(fd, buf, off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        mode = 'stream';
        stream().write(buf.subarray(off));
      } else if (code === 'EPIPE') mode = 'closed';
      else throw e;
    }
  };
}

// --debug is for any command and only changes what an internal error prints: taken out before parsing.
const argv = process.argv.slice(2);
const debug = argv.includes('--debug');
const args = argv.filter((a) => a !== '--debug');

runCli(args, {
  stdout: writer(1, () => process.stdout),
  stderr: writer(2, () => process.stderr),
  readStdin: () => readFileSync(0),
  cwd: process.cwd(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // A bug in kmap-review, not bad input: one line naming the input; the stack only with --debug.
    process.stderr.write(`${internalErrorLine(args, e)}\n${debug ? `${(e as Error).stack ?? String(e)}\n` : ''}`);
    process.exitCode = 3;
  },
);
