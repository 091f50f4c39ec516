#!/usr/bin/env node
// `scan --format html` on a whole tree (issue 20): page weight and time to first render in Debian's
// chromium (puppeteer-core), measured in the same run against a peer: the same page with its script
// removed (what the numbers cost without JavaScript). Also the time the class filter takes to re-show
// the table. Needs `npm run build`, the corpus tree and /usr/bin/chromium.
//
// usage: node bench/html-report.mjs [--tree DIR] [--runs N]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import puppeteer from 'puppeteer-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const corpus = process.env.KMAP_CORPUS ?? '/tmp/kmap-corpus';
const { values } = parseArgs({ options: { tree: { type: 'string' }, runs: { type: 'string', default: '5' } } });
const tree = values.tree ?? join(corpus, 'trees/linux-6.1');
const runs = Number(values.runs);
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(tree)) (console.error(`bench: no tree at ${tree}`), process.exit(2));
if (!existsSync(chromium)) (console.error(`bench: no chromium at ${chromium} (apt-get install -y chromium)`), process.exit(2));

const t0 = performance.now();
const r = spawnSync(process.execPath, [join(root, 'dist/cli/kmap-review.cjs'), 'scan', '--format', 'html', tree], { encoding: 'utf8', maxBuffer: 1 << 30 });
const scanMs = performance.now() - t0;
if (r.status !== 0) (console.error(r.stderr), process.exit(1));
const html = r.stdout;
const dir = mkdtempSync(join(tmpdir(), 'kmap-html-bench-'));
const page1 = join(dir, 'report.html');
const page2 = join(dir, 'noscript.html');
writeFileSync(page1, html);
writeFileSync(page2, html.replace(/<script>[\s\S]*?<\/script>/, ''));
const sites = (html.match(/<tr class="site /g) ?? []).length;

const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
await page.setViewport({ width: 1400, height: 900 });
async function load(file) {
  await page.goto('about:blank');
  const t = performance.now();
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  const wall = performance.now() - t;
  const paint = await page.evaluate(() => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const nav = performance.getEntriesByType('navigation')[0];
    return { fcp: fcp ? fcp.startTime : NaN, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
  });
  return { wall, ...paint };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const withJs = [];
const without = [];
for (let i = 0; i < runs; i++) {
  withJs.push(await load(page1));
  without.push(await load(page2));
}
await page.goto(`file://${page1}`, { waitUntil: 'load' });
const filterMs = await page.evaluate(async () => {
  const sel = document.getElementById('f-class');
  const t = performance.now();
  sel.value = 'blocked';
  sel.dispatchEvent(new Event('change'));
  await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
  return performance.now() - t;
});
await browser.close();

const m = (xs, k) => median(xs.map((x) => x[k]));
console.log(`machine: ${process.arch}, node ${process.version}, ${tree}: ${sites} sites`);
console.log(`scan --format html: ${(scanMs / 1000).toFixed(1)} s (patches for the ready sites included)`);
console.log(`page weight: ${(html.length / 1024).toFixed(0)} KiB (${(gzipSync(html).length / 1024).toFixed(0)} KiB gzipped), script ${(html.match(/<script>[\s\S]*?<\/script>/)[0].length / 1024).toFixed(1)} KiB`);
console.log(`first contentful paint (median of ${runs}): ${m(withJs, 'fcp').toFixed(0)} ms; DOMContentLoaded ${m(withJs, 'dcl').toFixed(0)} ms; load ${m(withJs, 'load').toFixed(0)} ms`);
console.log(`peer, the same page without its script: first paint ${m(without, 'fcp').toFixed(0)} ms; load ${m(without, 'load').toFixed(0)} ms`);
console.log(`ratio: first paint with script / without = ${(m(withJs, 'fcp') / m(without, 'fcp')).toFixed(2)}`);
console.log(`class filter (blocked) to the next frame: ${filterMs.toFixed(0)} ms`);
