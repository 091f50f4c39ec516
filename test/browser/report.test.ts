/**
 * The HTML report in a real browser (Debian's chromium, driven by puppeteer-core; no browser download):
 * no console errors, the charts' bars and labels, the filters, and a ready site's patch downloaded from
 * the page and applied with `git apply` to the scanned tree.
 *
 * Without /usr/bin/chromium (or $CHROMIUM) this fails with a message saying how to install it; only an
 * explicit KMAP_REVIEW_SKIP_BROWSER=1 outside CI skips it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { buildHistoryRepo, type ScratchRepo } from '../helpers/history-repo.js';
import { runCaptured } from '../helpers/cli.js';

const root = join(import.meta.dirname ?? '.', '..', '..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const skip = process.env.KMAP_REVIEW_SKIP_BROWSER === '1' && process.env.CI !== 'true';

const cli = (args: string[], cwd: string) => runCaptured(args, { cwd });

const d = skip ? describe.skip : describe;

d('the HTML report in chromium', () => {
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let work: string;
  let tree: string;
  let history: ScratchRepo;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`browser tests need Debian's chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM=/path/to/chromium; KMAP_REVIEW_SKIP_BROWSER=1 skips them outside CI)`);
    work = mkdtempSync(join(tmpdir(), 'kmap-html-'));
    tree = join(work, 'tree');
    cpSync(join(root, 'test', 'fixtures', 'scan-tree'), tree, { recursive: true });
    execFileSync('git', ['init', '-q'], { cwd: tree });
    const r = await cli(['scan', '--jobs', '1', '--format', 'html', tree], root);
    expect(r.code).toBe(0);
    writeFileSync(join(work, 'report.html'), r.out);
    history = buildHistoryRepo();
    const h = await cli(['scan', '--jobs', '1', '--history', `${history.commits[0]}..main`, '--format', 'html'], history.dir);
    expect(h.code).toBe(0);
    writeFileSync(join(work, 'history.html'), h.out);
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage();
    errors = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('requestfailed', (rq) => errors.push(`request failed: ${rq.url()}`));
    await page.goto(`file://${join(work, 'report.html')}`);
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    history?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const visibleRows = () => page.$$eval('#site-table tbody tr', (rows) => rows.filter((r) => (r as unknown as { offsetParent: unknown }).offsetParent !== null).length);

  it('loads without console errors or requests, with a bar per subsystem', async () => {
    expect(errors).toEqual([]);
    const requests: string[] = [];
    page.on('request', (rq) => requests.push(rq.url()));
    await page.reload();
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    const bars = await page.$$eval('#groups svg.bar', (svgs) => svgs.map((s) => s.getAttribute('aria-label')));
    expect(bars).toEqual(['DEMO FS: 2 ready, 2 need care, 0 blocked', 'DEMO DRIVERS: 0 ready, 1 need care, 1 blocked']);
    expect(await page.$$eval('#groups svg.bar rect', (r) => r.length)).toBe(4);
    expect(await page.$eval('#total', (e) => e.textContent)).toBe('6');
    expect(errors).toEqual([]);
  });

  it('filters rows by class, subsystem link and text', async () => {
    expect(await visibleRows()).toBe(6);
    await page.select('#f-class', 'needs-care');
    expect(await visibleRows()).toBe(3);
    expect(await page.$eval('#shown', (e) => e.textContent)).toBe('3 shown');
    await page.select('#f-class', '');
    await page.type('#f-text', 'demo_start');
    expect(await visibleRows()).toBe(1);
    await page.$eval('#f-text', (e) => ((e as unknown as { value: string }).value = ''));
    await page.type('#f-text', ' ');
    await page.click('#groups a[data-sub]'); // DEMO FS
    await page.waitForFunction('location.hash.startsWith("#sub=")');
    expect(await visibleRows()).toBe(4);
  });

  it('sorts by a column', async () => {
    await page.select('#f-sub', '');
    const firstApi = () => page.$eval('#site-table tbody tr', (r) => (r as unknown as { cells: Array<{ textContent: string }> }).cells[2].textContent);
    await page.click('#site-table th:nth-child(3)');
    const a = await firstApi();
    await page.click('#site-table th:nth-child(3)');
    const b = await firstApi();
    expect([a, b]).toEqual(['kmap', 'kunmap_atomic']);
  });

  it("opens a ready site's patch from its row", async () => {
    await page.click('#site-table tr[data-class="ready"] a:not(.dl)');
    await page.waitForFunction('location.hash === "#patch-0"');
    expect(await page.$eval('#patch-0', (e) => (e as unknown as { open: boolean }).open)).toBe(true);
    expect(await page.$eval('#patch-0 pre', (e) => e.textContent)).toMatch(/^\+\tmemcpy_from_page\(buf, page, 0, len\);$/m);
  });

  it("downloads a ready site's patch, which applies with git apply to the scanned tree", async () => {
    const downloads = join(work, 'downloads');
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    await page.click('#site-table tr[data-class="ready"] a.dl');
    let files: string[] = [];
    for (let i = 0; i < 100 && !files.some((f) => f.endsWith('.patch')); i++) {
      await new Promise((r) => setTimeout(r, 50));
      files = existsSync(downloads) ? readdirSync(downloads) : [];
    }
    expect(files).toEqual(['fs_demo_ready.c.patch']);
    const patch = join(downloads, files[0]);
    // The very patch `kmap-review fix` writes for the tree (its only file with ready sites).
    const fixed = await cli(['fix', tree], root);
    expect(readFileSync(patch, 'utf8')).toBe(fixed.out);
    execFileSync('git', ['apply', patch], { cwd: tree });
    expect(readFileSync(join(tree, 'fs/demo/ready.c'), 'utf8')).toMatch(/memcpy_from_page\(buf, page, 0, len\)/);
    const after = JSON.parse((await cli(['scan', '--jobs', '1', '--format', 'json', tree], root)).out);
    expect(after.totals.byClass.ready).toBe(0);
  });

  it('draws the trend chart: a bar and a label per history point', async () => {
    await page.goto(`file://${join(work, 'history.html')}`);
    expect(await page.$$eval('#trend-chart g.tbar', (g) => g.length)).toBe(6);
    expect(await page.$$eval('#trend-chart text.tlabel', (t) => t.map((x) => x.textContent))).toEqual(history.commits.map((c) => c.slice(0, 12)));
    // Stacks: point 1 has all three classes, point 5 two.
    expect(await page.$$eval('#trend-chart g.tbar', (g) => g.map((x) => x.querySelectorAll('rect').length))).toEqual([2, 3, 2, 2, 1, 2]);
    expect(errors).toEqual([]);
  });
});
