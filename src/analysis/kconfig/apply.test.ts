/**
 * The reach on findings: the engine's option (what `check --tree` passes) on a conversion of our own, and
 * applyKconfigReach's rules (which findings change, and how).
 */
import { analyze } from '../engine.js';
import type { Finding } from '../model.js';
import { changedFileFromImages } from '../patch/line-diff.js';
import { applyKconfigReach } from './apply.js';
import { KconfigReach } from './reach.js';
import { memoryTreeReader } from './tree-reader.js';

const TREE: Record<string, string> = {
  Kconfig: 'source "arch/$(SRCARCH)/Kconfig"\nsource "drivers/Kconfig"\n',
  'arch/x86/Kconfig': 'config 64BIT\n\tbool "64-bit kernel"\n\nconfig X86_64\n\tdef_bool y\n\tdepends on 64BIT\n\nconfig X86\n\tdef_bool y\n',
  'drivers/Kconfig': 'source "drivers/foo/Kconfig"\n',
  'drivers/Makefile': 'obj-$(CONFIG_FOO) += foo/\n',
  'drivers/foo/Kconfig': 'config FOO\n\ttristate "foo"\n\tdepends on X86\n\nconfig FOO_PSP\n\tbool "psp"\n\tdepends on FOO && X86_64\n',
  'drivers/foo/Makefile': 'obj-$(CONFIG_FOO) += foo.o\nfoo-y := core.o\nfoo-$(CONFIG_FOO_PSP) += psp.o\n',
};

const pre = `static void copy_pair(struct page *to, struct page *from)
{
	void *vfrom, *vto;

	vfrom = kmap_atomic(from);
	vto = kmap_atomic(to);
	copy_page(vto, vfrom);
	kunmap_atomic(vto);
	kunmap_atomic(vfrom);
}
`;
// The conversion unmaps in the wrong order: an unmap-order error where HIGHMEM exists.
const post = pre.replace(/kmap_atomic/g, 'kmap_local_page').replace('kunmap_atomic(vto);\n\tkunmap_atomic(vfrom);', 'kunmap_local(vfrom);\n\tkunmap_local(vto);');

async function review(path: string, reach?: KconfigReach): Promise<Finding[]> {
  const report = await analyze({ name: 't', files: [changedFileFromImages(path, path, pre, post)], skipped: [] }, undefined, reach ? { reach } : {});
  return report.findings.filter((f) => f.rule === 'unmap-order');
}

describe('the Kconfig reach in the engine', () => {
  it('a file built only with X86_64: the error becomes a warning whose note names the dependency', async () => {
    const [f] = await review('drivers/foo/psp.c', new KconfigReach(memoryTreeReader(TREE)));
    expect(f?.severity).toBe('warning');
    expect(f?.note).toBe(
      'a cleanup, not a runtime bug: built only without HIGHMEM (drivers/foo/Makefile: psp.o needs CONFIG_FOO_PSP; drivers/foo/Kconfig: FOO_PSP depends on X86_64), where kmap_local_page() is page_address() and kunmap_local() does nothing',
    );
  });

  it('a file of the same driver built on 32-bit x86 too keeps its error', async () => {
    const [f] = await review('drivers/foo/core.c', new KconfigReach(memoryTreeReader(TREE)));
    expect(f?.severity).toBe('error');
    expect(f?.note).toBeUndefined();
  });

  it('without a tree nothing changes', async () => {
    const [f] = await review('drivers/foo/psp.c');
    expect(f?.severity).toBe('error');
  });
});

describe('applyKconfigReach', () => {
  const reach = new KconfigReach(memoryTreeReader(TREE));
  const finding = (rule: string, path: string, extra: Partial<Finding> = {}): Finding => ({ rule, severity: 'error', path, line: 3, endLine: 3, message: 'm', trace: [], fix: null, preExisting: false, fingerprint: `${rule}${path}`, ...extra });

  it('changes only findings of rules that are cleanups without HIGHMEM', () => {
    const [leak, deprecated] = applyKconfigReach([finding('mapping-leak', 'drivers/foo/psp.c'), finding('deprecated-api', 'drivers/foo/psp.c', { severity: 'warning' })], reach);
    expect(leak?.severity).toBe('warning');
    expect(deprecated?.note).toBeUndefined();
  });

  it('returns new objects and leaves the inputs (a result cache may hold them) as they were', () => {
    const input = finding('double-unmap', 'drivers/foo/psp.c');
    const [out] = applyKconfigReach([input], reach);
    expect(out).not.toBe(input);
    expect(input.severity).toBe('error');
    expect(input.note).toBeUndefined();
  });

  it('keeps an earlier note when it changes an error', () => {
    const [out] = applyKconfigReach([finding('stack-depth', 'drivers/foo/psp.c', { note: 'earlier' })], reach);
    expect(out?.severity).toBe('warning');
    expect(out?.note).toMatch(/^earlier; a cleanup, not a runtime bug: built only without HIGHMEM/);
  });

  it.each(['warning', 'notice'] as const)('leaves a %s as it was, without asking the reach (which would read every Kconfig file)', (severity) => {
    let asked = 0;
    const counting = { reachOf: (p: string) => (asked++, reach.reachOf(p)) };
    const input = finding('stack-depth', 'drivers/foo/psp.c', { severity });
    expect(applyKconfigReach([input], counting)[0]).toBe(input);
    expect(asked).toBe(0);
    // The same finding as an error is asked about (the counter can count).
    applyKconfigReach([finding('stack-depth', 'drivers/foo/psp.c')], counting);
    expect(asked).toBe(1);
  });

  it('leaves arch/ paths of architectures without HIGHMEM to the rule, which has said so already', () => {
    const input = finding('use-after-unmap', 'arch/arm64/mm/x.c', { severity: 'warning', note: 'arm64 has no HIGHMEM' });
    expect(applyKconfigReach([input], reach)[0]).toBe(input);
  });
});
