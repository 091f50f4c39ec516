#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { runCli } from './cli.js';

runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  readStdin: () => readFileSync(0),
  cwd: process.cwd(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // An engine bug, not bad input: say so plainly, with the stack for the report.
    process.stderr.write(`kmap-review: internal error: ${(e as Error).stack ?? String(e)}\nplease report this with the input that caused it\n`);
    process.exitCode = 3;
  },
);
