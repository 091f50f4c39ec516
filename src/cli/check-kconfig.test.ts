/**
 * `check --tree` reads the tree's Makefiles and Kconfig: a conversion error in a file the tree builds only on
 * 64-bit is printed as a warning with the note naming the dependency; the same patch without the tree, or
 * in a file also built on 32-bit, keeps its error (and the exit status that fails a review).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCli, type CliIo } from './cli.js';

async function cli(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  let out = '';
  const io: CliIo = { stdout: (s) => void (out += s), stderr: () => undefined, readStdin: () => Buffer.from(''), cwd };
  return { code: await runCli(args, io), out };
}

const source = `// SPDX-License-Identifier: GPL-2.0
static void copy_pair(struct page *to, struct page *from)
{
	void *vfrom, *vto;

	vfrom = kmap_atomic(from);
	vto = kmap_atomic(to);
	copy_page(vto, vfrom);
	kunmap_atomic(vto);
	kunmap_atomic(vfrom);
}
`;

const patchFor = (path: string) => `--- a/${path}
+++ b/${path}
@@ -3,9 +3,9 @@
 {
 	void *vfrom, *vto;
 
-	vfrom = kmap_atomic(from);
-	vto = kmap_atomic(to);
+	vfrom = kmap_local_page(from);
+	vto = kmap_local_page(to);
 	copy_page(vto, vfrom);
-	kunmap_atomic(vto);
-	kunmap_atomic(vfrom);
+	kunmap_local(vfrom);
+	kunmap_local(vto);
 }
`;

function makeTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'kmap-kconfig-'));
  const files: Record<string, string> = {
    Kconfig: 'source "arch/$(SRCARCH)/Kconfig"\nsource "drivers/Kconfig"\n',
    'arch/x86/Kconfig': 'config 64BIT\n\tbool "64-bit kernel"\n\nconfig X86_64\n\tdef_bool y\n\tdepends on 64BIT\n\nconfig X86\n\tdef_bool y\n',
    'drivers/Kconfig': 'menu "Device Drivers"\nsource "drivers/sev/Kconfig"\nendmenu\n',
    'drivers/Makefile': 'obj-$(CONFIG_SEV_GUEST) += sev/\n',
    'drivers/sev/Kconfig': 'config SEV_GUEST\n\ttristate "SEV guest"\n\tdepends on X86_64 || X86\n\nconfig SEV_HOST\n\tbool "SEV host"\n\tdepends on SEV_GUEST && X86_64\n',
    'drivers/sev/Makefile': 'obj-$(CONFIG_SEV_GUEST) += sev.o\nsev-y := guest.o\nsev-$(CONFIG_SEV_HOST) += host.o\n',
    'drivers/sev/host.c': source,
    'drivers/sev/guest.c': source,
  };
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

describe('check --tree and the Kconfig reach', () => {
  const tree = makeTree();
  const patches = mkdtempSync(join(tmpdir(), 'kmap-kconfig-patches-'));
  const patch = (path: string) => {
    const p = join(patches, `${path.replace(/\//g, '-')}.patch`);
    writeFileSync(p, patchFor(path));
    return p;
  };

  it('a file built only with X86_64: a warning with the dependency, and the review passes', async () => {
    const { code, out } = await cli(['check', '--tree', tree, patch('drivers/sev/host.c')], tree);
    expect(out).toMatch(/^drivers\/sev\/host\.c:9: warning: .*\[unmap-order\]$/m);
    expect(out).toContain('drivers/sev/Makefile: host.o needs CONFIG_SEV_HOST; drivers/sev/Kconfig: SEV_HOST depends on X86_64');
    expect(code).toBe(0);
  });

  it('a file of the same driver also built on 32-bit x86 keeps its error', async () => {
    const { code, out } = await cli(['check', '--tree', tree, patch('drivers/sev/guest.c')], tree);
    expect(out).toMatch(/^drivers\/sev\/guest\.c:9: error: .*\[unmap-order\]$/m);
    expect(out).not.toContain('built only without HIGHMEM');
    expect(code).toBe(1);
  });

  it('without --tree the same patch keeps its error', async () => {
    const { code, out } = await cli(['check', patch('drivers/sev/host.c')], tree);
    expect(out).toMatch(/^drivers\/sev\/host\.c:9: error: /m);
    expect(code).toBe(1);
  });
});
