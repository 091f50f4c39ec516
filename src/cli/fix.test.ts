import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFix } from './fix.js';
import { runCaptured } from '../../test/helpers/cli.js';

const fix = (args: string[], cwd: string) => runCaptured(args, { cwd, run: runFix });

const ready = `static u32 sum_page(struct page *page)
{
	u32 *p = kmap_atomic(page);
	u32 s = p[0] + p[1];

	kunmap_atomic(p);
	return s;
}
`;
const needsCare = `static int fill(struct page *page, const char __user *ubuf)
{
	char *v;
	unsigned long left;

	v = kmap_atomic(page);
	left = __copy_from_user_inatomic(v, ubuf, PAGE_SIZE);
	kunmap_atomic(v);
	return left ? -EFAULT : 0;
}
`;

function tree(): string {
  const t = mkdtempSync(join(tmpdir(), 'kmap-fix-'));
  mkdirSync(join(t, 'drivers', 'demo'), { recursive: true });
  writeFileSync(join(t, 'drivers', 'demo', 'a.c'), ready);
  writeFileSync(join(t, 'drivers', 'demo', 'b.c'), needsCare);
  writeFileSync(join(t, 'drivers', 'demo', 'notes.txt'), 'kmap_atomic(page)');
  return t;
}

describe('kmap-review fix', () => {
  it('prints a git patch series for the ready sites and lists the others', async () => {
    const t = tree();
    const { code, out, err } = await fix(['drivers'], t);
    expect(code).toBe(0);
    expect(out).toContain('Subject: [PATCH] demo: Replace kmap_atomic() with kmap_local_page()');
    expect(out).toContain('diff --git a/demo/a.c b/demo/a.c');
    expect(out).toContain('+\tu32 *p = kmap_local_page(page);');
    expect(err).toMatch(/b\.c:6: needs-care: kmap_atomic\(\) in fill\(\) left alone: .*__copy_from_user_inatomic/);
    expect(err).toContain('2 of 4 sites converted in 1 files');
  });

  it('paths are relative to --tree; --write rewrites in place; --patch writes the series', async () => {
    const t = tree();
    const { code, out } = await fix(['drivers/demo', '--tree', '.', '--write', '--patch', 'out.mbox', '--add-pagefault-disable'], t);
    expect(code).toBe(0);
    expect(out).toBe('');
    const mbox = readFileSync(join(t, 'out.mbox'), 'utf8');
    expect(mbox).toContain('diff --git a/drivers/demo/a.c b/drivers/demo/a.c');
    expect(mbox).toContain('+\tpagefault_disable();');
    expect(readFileSync(join(t, 'drivers', 'demo', 'a.c'), 'utf8')).toContain('kunmap_local(p);');
    expect(readFileSync(join(t, 'drivers', 'demo', 'b.c'), 'utf8')).toContain('\tpagefault_enable();\n\tkunmap_local(v);');
    expect(readdirSync(join(t, 'drivers', 'demo')).sort()).toEqual(['a.c', 'b.c', 'notes.txt']);
  });

  it('--config include/exclude: left-out files are not converted', async () => {
    const t = tree();
    writeFileSync(join(t, 'kmap-review.yml'), 'exclude: ["drivers/demo/a.c"]\n');
    const { out, err } = await fix(['drivers', '--tree', '.', '--config', 'kmap-review.yml'], t);
    expect(out).not.toContain('a.c');
    expect(err).toContain('0 of 2 sites converted');
  });

  it('--split groups by subsystem', async () => {
    const t = tree();
    writeFileSync(join(t, 'drivers', 'demo', 'b.c'), ready.replace('sum_page', 'sum_other'));
    const { out } = await fix(['.', '--split'], t);
    expect(out.match(/^Subject:/gm)).toHaveLength(1);
    expect((await fix(['.'], t)).out.match(/^Subject:/gm)).toHaveLength(2);
  });

  it('follows no symlink out of the directory', async () => {
    const t = tree();
    const outside = mkdtempSync(join(tmpdir(), 'kmap-fix-out-'));
    writeFileSync(join(outside, 'x.c'), ready);
    symlinkSync(join(outside, 'x.c'), join(t, 'drivers', 'demo', 'link.c'));
    const { out } = await fix(['drivers', '--write'], t);
    expect(out).toBe('');
    expect(readFileSync(join(outside, 'x.c'), 'utf8')).toBe(ready);
  });

  it.each([
    [['--bogus'], /Unknown option/],
    [[], /needs a DIR/],
    [['a', 'b'], /one DIR or PATCH/],
    [['drivers', '--tree', '/nonexistent-kmap'], /no such directory/],
    [['drivers', '--tree', 'drivers/demo'], /outside the tree/],
    [['x.patch'], /needs --tree/],
    [['x.patch', '--write'], /--write needs a DIR/],
    [['drivers', '--author', 'nobody'], /--author expects/],
  ])('bad usage %j exits 2 with a message', async (args, message) => {
    const t = tree();
    const { code, err } = await fix(args, t);
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });

  it('PATCH with --tree: converts what the patched files still need', async () => {
    const t = tree();
    const patch = `--- a/drivers/demo/b.c\n+++ b/drivers/demo/b.c\n@@ -1,3 +1,3 @@\n-static int fill(struct page *page, const char __user *ubuf)\n+static int fill_user(struct page *page, const char __user *ubuf)\n {\n \tchar *v;\n`;
    writeFileSync(join(t, 'x.patch'), patch);
    const { code, out, err } = await fix(['x.patch', '--tree', '.', '--add-pagefault-disable'], t);
    expect(code).toBe(0);
    expect(out).toContain('fill_user');
    expect(out).toContain('+\tpagefault_disable();');
    expect(err).toContain('2 of 2 sites converted');
  });
});
