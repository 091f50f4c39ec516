/**
 * The scan fixture tree (test/fixtures/scan-tree) with build files that restrict drivers/demo to 64-bit
 * kernels (DEMO depends on X86_64): what the Kconfig reach tests of the scan and of the CLI read.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const SCAN_FIXTURE = join(import.meta.dirname ?? '.', '..', 'fixtures', 'scan-tree');

export const BUILD_FILES: Record<string, string> = {
  Kconfig: 'source "arch/$(SRCARCH)/Kconfig"\nsource "drivers/Kconfig"\n',
  'arch/x86/Kconfig': 'config 64BIT\n\tbool "64-bit kernel"\n\nconfig X86_64\n\tdef_bool y\n\tdepends on 64BIT\n',
  'drivers/Kconfig': 'source "drivers/demo/Kconfig"\n',
  'drivers/Makefile': 'obj-$(CONFIG_DEMO) += demo/\n',
  'drivers/demo/Kconfig': 'config DEMO\n\ttristate "demo"\n\tdepends on PCI && X86_64\n',
  'drivers/demo/Makefile': 'obj-$(CONFIG_DEMO) += leak.o blocked.o\n',
};

/** Copies the fixture into `dir` and writes the build files. */
export function writeKconfigTree(dir: string): void {
  cpSync(SCAN_FIXTURE, dir, { recursive: true });
  for (const [p, text] of Object.entries(BUILD_FILES)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}
