import { locateFunctions } from '../source/functions.js';
import { initParser } from '../syntax/parser.js';
import { buildCfg, reachable, type Cfg } from './cfg.js';

beforeAll(initParser);

function cfgOf(code: string): Cfg {
  const fn = locateFunctions(code)[0];
  return buildCfg(fn.body);
}

/** Every entry-to-exit path as the list of node lines, loops cut at their first back edge. */
function paths(cfg: Cfg, to: number = cfg.exit): number[][] {
  const out: number[][] = [];
  const walk = (id: number, path: number[], seen: Set<number>) => {
    if (id === to) return void out.push(path);
    const n = cfg.nodes[id];
    for (const e of n.succ) {
      if (e.back || seen.has(e.to)) continue;
      const next = cfg.nodes[e.to];
      walk(e.to, next.ast ? [...path, next.line] : path, new Set(seen).add(e.to));
    }
  };
  walk(cfg.entry, [], new Set([cfg.entry]));
  return out.sort((a, b) => a.length - b.length || a.join().localeCompare(b.join()));
}

describe('buildCfg', () => {
  it('if/else and early return', () => {
    const cfg = cfgOf(`int f(int a)
{
	if (a)
		return 1;
	else
		a++;
	return a;
}`);
    expect(paths(cfg)).toEqual([[3, 4], [3, 6, 7]]);
  });

  it('goto error paths reach their labels', () => {
    const cfg = cfgOf(`int f(struct page *p)
{
	void *v = kmap_local_page(p);
	if (check(v))
		goto out;
	work(v);
out:
	kunmap_local(v);
	return 0;
}`);
    expect(paths(cfg)).toEqual([[3, 4, 7, 8, 9], [3, 4, 6, 7, 8, 9]]);
  });

  it('switch with fall-through, break and no default', () => {
    const cfg = cfgOf(`void f(int x)
{
	switch (x) {
	case 1:
		a();
	case 2:
		b();
		break;
	case 3:
		c();
	}
	d();
}`);
    expect(paths(cfg)).toEqual([[3, 12], [3, 10, 12], [3, 7, 12], [3, 5, 7, 12]]);
  });

  it('loops: for, while, do-while(0), iterator macros, break and continue', () => {
    const cfg = cfgOf(`void f(int n)
{
	for (i = 0; i < n; i++) {
		if (skip(i))
			continue;
		if (stop(i))
			break;
		g(i);
	}
	do {
		h();
	} while (0);
	list_for_each_entry(pos, &head, list)
		k(pos);
}`);
    const heads = cfg.nodes.filter((n) => n.loopHead).map((n) => n.line);
    expect(heads.sort()).toEqual([13, 3]);
    const all = paths(cfg);
    expect(all).toContainEqual([3, 3, 11, 12, 13]);
    expect(all).toContainEqual([3, 3, 4, 6, 11, 12, 13]);
    // while (0) never loops back; the iterator's body loops back to its head.
    expect(cfg.nodes.filter((n) => n.line === 12).flatMap((n) => n.succ).some((e) => e.back)).toBe(false);
    expect(cfg.nodes.filter((n) => n.line === 14).flatMap((n) => n.succ).map((e) => [cfg.nodes[e.to].line, e.back])).toEqual([[13, true]]);
  });

  it('BUG() and BUG_ON() leave through abort', () => {
    const cfg = cfgOf(`void f(void *v)
{
	BUG_ON(!v);
	if (bad(v))
		BUG();
	use(v);
}`);
    expect(paths(cfg)).toEqual([[3, 4, 6]]);
    expect(paths(cfg, cfg.abort)).toEqual([[3], [3, 4, 5]]);
  });

  it('code after an unconditional return is unreachable', () => {
    const cfg = cfgOf(`int f(void)
{
	return 0;
	dead();
}`);
    const live = reachable(cfg);
    expect(cfg.nodes.filter((n) => n.line === 4 && n.ast).every((n) => !live.has(n.id))).toBe(true);
  });

  it('still builds a graph around statements that did not parse', () => {
    const cfg = cfgOf(`int f(void)
{
	a();
	@@ garbage @@;
	return b();
}`);
    expect(paths(cfg).length).toBe(1);
    expect(paths(cfg)[0]).toContain(5);
  });
});
