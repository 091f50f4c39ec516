#!/usr/bin/env node
// Renders a `kmap-review scan --format html` page in Debian's chromium and saves a PNG of its top, for the
// pictures in docs/. Run from the repository's top so the page's title shows the relative path given.
//
//   npm run build && node scripts/screenshot-report.mjs examples/tree docs/report-examples-tree.png
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const [dir, out, height = '1000'] = process.argv.slice(2);
if (!dir || !out) {
  console.error('usage: node scripts/screenshot-report.mjs DIR OUT.png [HEIGHT]');
  process.exit(2);
}
const html = execFileSync(process.execPath, ['dist/cli/main.js', 'scan', '--format', 'html', dir], { maxBuffer: 1 << 28 });
const page = join(mkdtempSync(join(tmpdir(), 'kmap-shot-')), 'report.html');
writeFileSync(page, html);
const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
try {
  const tab = await browser.newPage();
  await tab.setViewport({ width: 1200, height: Number(height) });
  await tab.goto(`file://${page}`, { waitUntil: 'load' });
  await tab.screenshot({ path: out });
} finally {
  await browser.close();
}
console.log(`${out}: the top ${height} pixels of the report of ${dir}`);
