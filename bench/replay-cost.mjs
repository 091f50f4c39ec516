// In-process cost of the path-replay rules over the corpus: the same analysis with and without them,
// best of 3 each, plus the slowest function and its state count when the replay exposes its stats.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const corpus = process.argv[2];
const dist = new URL('../dist/', import.meta.url);
const { analyze } = await import(new URL('analysis/engine.js', dist));
const { loadChangeSets } = await import(new URL('analysis/patch/load.js', dist));
const { allRules } = await import(new URL('analysis/rules/index.js', dist));
const replayIds = ['unmap-order', 'mapping-leak', 'double-unmap', 'use-after-unmap', 'stack-depth'].filter((id) => allRules.some((r) => r.meta.id === id));

const convDir = join(corpus, 'conversions');
const tree = join(corpus, 'trees', 'linux-6.1');
const changeSets = [];
for (const d of readdirSync(convDir).filter((x) => /^\d{4}-/.test(x)).sort()) {
  const [cs] = await loadChangeSets([{ name: d, content: readFileSync(join(convDir, d, 'conversion.patch')) }], { tree });
  changeSets.push(cs);
}
const config = (off) => ({ rules: Object.fromEntries(off.map((id) => [id, 'off'])), mapFunctions: {}, unmapFunctions: {} });
const pass = async (cfg) => {
  const t = performance.now();
  for (const cs of changeSets) await analyze(cs, cfg);
  return performance.now() - t;
};
await pass(config([])); // warm up
const best = async (cfg) => Math.min(await pass(cfg), await pass(cfg), await pass(cfg));
const withReplay = await best(config([]));
const withoutReplay = await best(config(replayIds));
console.log(`replay rules (${replayIds.length ? replayIds.join(', ') : 'none registered yet'})`);
console.log(`  all rules: ${withReplay.toFixed(0)} ms, replay rules off: ${withoutReplay.toFixed(0)} ms over ${changeSets.length} conversions`);
console.log(`  replay adds ${(withReplay - withoutReplay).toFixed(0)} ms  (target < 1000 ms)`);
try {
  const stats = await import(new URL('analysis/replay/stats.js', dist));
  const s = stats.slowestFunctions?.(5);
  if (s?.length) for (const f of s) console.log(`  slow: ${f.name} ${f.ms.toFixed(1)} ms, ${f.states} states`);
} catch {
  // The replay exposes no stats module: nothing more to print.
}
