/**
 * Runs a CLI entry point in-process with captured output: what every CLI test needs (the exit status,
 * stdout and stderr as text), in one place.
 */
import { runCli, type CliIo } from '../../src/cli/cli.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export interface CliRunOptions {
  /** The directory relative paths are read from. */
  cwd: string;
  /** What the command reads from standard input (`-`). */
  stdin?: string | Buffer;
  /** The entry point (default `runCli`, the `kmap-review` command). */
  run?: (args: string[], io: CliIo) => Promise<number>;
}

export async function runCaptured(args: string[], opts: CliRunOptions): Promise<CliRun> {
  let out = '';
  let err = '';
  const stdin = typeof opts.stdin === 'string' ? Buffer.from(opts.stdin) : (opts.stdin ?? Buffer.alloc(0));
  const io: CliIo = { stdout: (s) => void (out += s), stderr: (s) => void (err += s), readStdin: () => stdin, cwd: opts.cwd };
  const code = await (opts.run ?? runCli)(args, io);
  return { code, out, err };
}
