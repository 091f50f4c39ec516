/**
 * The Kconfig reach on small kernel-style trees of our own: a top-level Kconfig sourcing two architectures
 * (x86 with HIGHMEM on 32-bit, arm64 without) and drivers/, and per case the Kconfig and Makefile of
 * drivers/foo. Each case says whether drivers/foo/<file> is restricted and, if so, a piece of its evidence.
 */
import { KconfigReach } from './reach.js';
import { memoryTreeReader } from './tree-reader.js';

const BASE: Record<string, string> = {
  Kconfig: `# top
mainmenu "Linux/$(ARCH) Kernel Configuration"
# A macro whose name starts like a keyword (scripts/Kconfig.include has if-success): not a block.
if-success = $(shell,{ $(1); } >/dev/null 2>&1 && echo "$(2)" || echo "$(3)")
source "arch/$(SRCARCH)/Kconfig"
source "drivers/Kconfig"
`,
  'arch/x86/Kconfig': `config 64BIT
	bool "64-bit kernel" if "$(ARCH)" = "x86"
	default "$(ARCH)" != "i386"

config X86_32
	def_bool y
	depends on !64BIT

config X86_64
	def_bool y
	depends on 64BIT

config X86
	def_bool y

config HIGHMEM
	def_bool y
	depends on X86_32
`,
  'arch/arm64/Kconfig': `config ARM64
	def_bool y
	select 64BIT

config 64BIT
	def_bool y
`,
  'arch/arm/Kconfig': `config ARM
	def_bool y

config HIGHMEM
	bool "High Memory Support"
`,
  'drivers/Kconfig': `menu "Device Drivers"

source "drivers/foo/Kconfig"

endmenu
`,
  'drivers/Makefile': `obj-$(CONFIG_FOO) += foo/
`,
};

interface Case {
  name: string;
  kconfig: string;
  makefile: string;
  file: string;
  /** null: not restricted; else a piece of the evidence. */
  expect: string | null;
  extra?: Record<string, string | null>;
}

const FOO = `config FOO
	tristate "Foo devices"
`;

const cases: Case[] = [
  { name: 'depends on X86_64: restricted', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on FOO && X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'drivers/foo/Kconfig: FOO_DEV depends on X86_64' },
  { name: 'depends on X86: unchanged (32-bit x86 has HIGHMEM)', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on FOO && X86\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'X86_64 || COMPILE_TEST: unchanged', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64 || COMPILE_TEST\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: '64BIT', kconfig: `${FOO}config FOO_DEV\n\ttristate "dev"\n\tdepends on PCI\n\tdepends on 64BIT\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'FOO_DEV depends on 64BIT' },
  { name: '!HIGHMEM', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on !HIGHMEM\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'FOO_DEV depends on !HIGHMEM' },
  { name: 'HIGHMEM=n and !(HIGHMEM || X86)', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on HIGHMEM=n\nconfig FOO_B\n\tbool "b"\n\tdepends on !(HIGHMEM || X86)\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\nobj-$(CONFIG_FOO_B) += dev.o\n', file: 'dev.c', expect: '!HIGHMEM' },
  { name: 'X86_64=y', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64=y\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'depends on X86_64' },
  { name: 'HIGHMEM (positive) restricts nothing', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on HIGHMEM\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'an architecture without HIGHMEM (ARM64)', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on ARM64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'FOO_DEV depends on ARM64' },
  { name: 'ARM64 || ARM: unchanged', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on ARM64 || ARM\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: '(ARM64 || X86_64) && PCI', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on (ARM64 || X86_64) && PCI\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'depends on (ARM64 || X86_64)' },
  { name: 'nested if blocks', kconfig: `${FOO}if FOO\nif X86_64\nconfig FOO_DEV\n\tbool "dev"\nendif # X86_64\nendif\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'FOO_DEV is inside "if X86_64" (drivers/foo/Kconfig:4)' },
  { name: 'an if block closed before the config', kconfig: `${FOO}if X86_64\nconfig FOO_OTHER\n\tbool "other"\nendif\nconfig FOO_DEV\n\tbool "dev"\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'menu ... depends on', kconfig: `${FOO}menu "Foo 64"\n\tdepends on 64BIT\nconfig FOO_DEV\n\tbool "dev"\nendmenu\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'inside "menu ... depends on 64BIT"' },
  { name: 'choice ... depends on', kconfig: `${FOO}choice\n\tprompt "mode"\n\tdepends on X86_64\nconfig FOO_DEV\n\tbool "dev"\nendchoice\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'inside "choice ... depends on X86_64"' },
  {
    name: 'an if block around the source line that read the file',
    kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n`,
    makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n',
    file: 'dev.c',
    extra: { 'drivers/Kconfig': 'if 64BIT\nsource "drivers/foo/Kconfig"\nendif\n' },
    expect: 'FOO_DEV is inside "if 64BIT" (drivers/Kconfig:1)',
  },
  { name: 'composite object: the guarded part', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO) += foo.o\nfoo-y := core.o\nfoo-$(CONFIG_FOO_DEV) += dev.o \\\n\tdev-ops.o\n', file: 'dev-ops.c', expect: 'drivers/foo/Makefile: dev-ops.o needs CONFIG_FOO_DEV' },
  { name: 'composite object: the unguarded part', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO) += foo.o\nfoo-y := core.o\nfoo-$(CONFIG_FOO_DEV) += dev.o\n', file: 'core.c', expect: null },
  { name: 'composite object built only under a restricted symbol', kconfig: `${FOO}config FOO_DEV\n\ttristate "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += foo-dev.o\nfoo-dev-objs := core.o main.o\n', file: 'main.c', expect: 'foo-dev.o needs CONFIG_FOO_DEV' },
  { name: 'a directory built only under a restricted symbol', kconfig: `config FOO\n\ttristate "foo"\n\tdepends on X86_64\n`, makefile: 'obj-y += dev.o\n', file: 'dev.c', expect: 'drivers/Makefile: foo/ needs CONFIG_FOO' },
  { name: 'named by a parent Makefile with its directory', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: '', file: 'sub/dev.c', expect: 'drivers/foo/Makefile: sub/dev.o needs CONFIG_FOO_DEV', extra: { 'drivers/foo/Makefile': 'obj-$(CONFIG_FOO_DEV) += sub/dev.o\n' } },
  { name: 'named twice, once without a restriction', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\nobj-$(CONFIG_FOO) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'a file no Makefile names (an #included .c)', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev-tables.c', expect: null },
  { name: 'a header', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.h', expect: null },
  { name: 'a dependency through another symbol', kconfig: `${FOO}config FOO_CORE\n\ttristate "core"\n\tdepends on X86_64\nconfig FOO_DEV\n\ttristate "dev"\n\tdepends on FOO_CORE\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'FOO_DEV depends on FOO_CORE; drivers/foo/Kconfig: FOO_CORE depends on X86_64' },
  { name: 'two definitions, one without the restriction', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\nconfig FOO_DEV\n\tbool\n\tdepends on PCI\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'a second definition in another sourced file, without the restriction', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', extra: { 'arch/arm/Kconfig': 'config ARM\n\tdef_bool y\n\nconfig HIGHMEM\n\tbool "High Memory Support"\n\nconfig FOO_DEV\n\tbool\n' }, expect: null },
  { name: 'a definition in a file nothing sources is not one', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', extra: { 'Documentation/kbuild/Kconfig.example': 'config FOO_DEV\n\tbool "example"\n' }, expect: 'FOO_DEV depends on X86_64' },
  { name: 'help text that reads like a source or a config line is not one', kconfig: `${FOO}config FOO_X\n\tbool "x"\n\thelp\n\t  config FOO_DEV\n\t  source "drivers/foo/Kconfig.none"\n\nconfig FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'FOO_DEV depends on X86_64' },
  { name: 'a dependency cycle restricts nothing (and ends)', kconfig: `${FOO}config FOO_A\n\tbool\n\tdepends on FOO_DEV\nconfig FOO_DEV\n\tbool "dev"\n\tdepends on FOO_A\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'set only by its default: def_bool !HIGHMEM, no prompt, nothing selects it', kconfig: `${FOO}config FOO_VIRT\n\tdef_bool !HIGHMEM\nconfig FOO_DEV\n\ttristate "dev"\n\tdepends on FOO_VIRT\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'FOO_DEV depends on FOO_VIRT; drivers/foo/Kconfig: FOO_VIRT has no prompt, nothing selects it, and its default is !HIGHMEM' },
  { name: 'default y if 64BIT without a prompt', kconfig: `${FOO}config FOO_DEV\n\tbool\n\tdefault n if PCI\n\tdefault y if 64BIT\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'its default is y if 64BIT' },
  { name: 'a default that restricts, and one that does not', kconfig: `${FOO}config FOO_DEV\n\tbool\n\tdefault y if 64BIT\n\tdefault y if X86\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'a restricting default, but something selects the symbol', kconfig: `${FOO}config FOO_VIRT\n\tdef_bool !HIGHMEM\nconfig FOO_DEV\n\ttristate "dev"\n\tdepends on FOO_VIRT\nconfig FOO_OTHER\n\tbool "other"\n\tselect FOO_VIRT if PCI\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'a restricting default on a symbol the user can set (a prompt)', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdefault !HIGHMEM\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'a symbol without a definition', kconfig: FOO, makefile: 'obj-$(CONFIG_FOO_NOWHERE) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'a macro in the dependency', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on $(cc-option,-m64)\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'help text that reads like a dependency', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86\n\thelp\n\t  Say Y. The 64-bit variant\n\t  depends on X86_64\n\nconfig FOO_OTHER\n\tbool\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'help text at the keyword\'s indentation ends at the next entry', kconfig: `${FOO}config FOO_X\n\tbool "x"\n\thelp\n\tSay Y.\n\nconfig FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'FOO_DEV depends on X86_64' },
  { name: 'a prompt condition continued onto an "if" line is not a block', kconfig: `${FOO}config FOO_DEV\n\tbool "dev" \\\n\t\tif X86_64\n\tdepends on FOO\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'a name built from a variable: the Makefile may build anything', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\nobj-y += $(foo-extra)\n', file: 'dev.c', expect: null },
  { name: 'a guard that is not $(CONFIG_FOO)', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\nobj-$(if $(CONFIG_FOO),y) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'ifeq in a Makefile is not read (a line inside counts as unconditional)', kconfig: FOO, makefile: 'ifeq ($(CONFIG_X86_64),y)\nobj-y += dev.o\nendif\n', file: 'dev.c', expect: null },
  { name: 'Kbuild is read before Makefile', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-y += dev.o\n', file: 'dev.c', extra: { 'drivers/foo/Kbuild': 'obj-$(CONFIG_FOO_DEV) += dev.o\n' }, expect: 'drivers/foo/Kbuild: dev.o needs CONFIG_FOO_DEV' },
  { name: 'a source of a missing file: the index is incomplete', kconfig: `${FOO}source "drivers/foo/Kconfig.missing"\nconfig FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'an optional source of a missing file is fine', kconfig: `${FOO}osource "drivers/foo/Kconfig.missing"\nconfig FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: 'depends on X86_64' },
  { name: 'rsource is relative to the file', kconfig: `${FOO}rsource "Kconfig.dev"\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', extra: { 'drivers/foo/Kconfig.dev': 'config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n' }, expect: 'drivers/foo/Kconfig.dev: FOO_DEV depends on X86_64' },
  { name: 'an unbalanced block: the index is incomplete', kconfig: `${FOO}endif\nconfig FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', expect: null },
  { name: 'no top-level Kconfig', kconfig: `${FOO}config FOO_DEV\n\tbool "dev"\n\tdepends on X86_64\n`, makefile: 'obj-$(CONFIG_FOO_DEV) += dev.o\n', file: 'dev.c', extra: { Kconfig: null }, expect: null },
];

function treeOf(c: Case): Record<string, string> {
  const files: Record<string, string> = { ...BASE, 'drivers/foo/Kconfig': c.kconfig, 'drivers/foo/Makefile': c.makefile };
  for (const [k, v] of Object.entries(c.extra ?? {})) {
    if (v === null) delete files[k];
    else files[k] = v;
  }
  return files;
}

describe('KconfigReach.reachOf', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = new KconfigReach(memoryTreeReader(treeOf(c))).reachOf(`drivers/foo/${c.file}`);
    if (c.expect === null) expect(r).toBeNull();
    else expect(r?.evidence.join('; ') ?? '(not restricted)').toContain(c.expect);
  });

  it('a file under an architecture without HIGHMEM is restricted; one under x86 is not', () => {
    const files = { ...BASE, 'arch/arm64/mm/Makefile': 'obj-y += init.o\n', 'arch/x86/mm/Makefile': 'obj-y += init.o\n', 'arch/x86/Kbuild': 'obj-y += mm/\n' };
    const reach = new KconfigReach(memoryTreeReader(files));
    expect(reach.reachOf('arch/arm64/mm/init.c')?.evidence).toEqual(['arch/arm64/: arm64 has no HIGHMEM']);
    expect(reach.reachOf('arch/x86/mm/init.c')).toBeNull();
  });

  it('a symbol of an architecture without HIGHMEM is restricted by the architecture it is defined for', () => {
    const c: Case = { name: '', kconfig: FOO, makefile: 'obj-$(CONFIG_ARM64) += dev.o\n', file: 'dev.c', expect: null };
    expect(new KconfigReach(memoryTreeReader(treeOf(c))).reachOf('drivers/foo/dev.c')?.evidence).toContain('arch/arm64/Kconfig: ARM64 is defined for arm64 (no HIGHMEM)');
  });

  it('paths that leave the tree, and bad input, answer nothing without throwing', () => {
    const reach = new KconfigReach(memoryTreeReader({ ...BASE, 'drivers/foo/Kconfig': '\u0000((( depends on &&\nendmenu\nif\n', 'drivers/foo/Makefile': 'obj-$(CONFIG_ += \\\n' }));
    expect(reach.reachOf('../etc/passwd.c')).toBeNull();
    expect(reach.reachOf('/abs/x.c')).toBeNull();
    expect(reach.reachOf('drivers/foo/dev.c')).toBeNull();
  });

  it('a dependency chain deep enough to exhaust the stack restricts nothing, and does not throw', () => {
    const chainOf = (n: number) => Array.from({ length: n }, (_, i) => `config FOO_${i}\n\tbool "x"\n\tdepends on FOO_${i + 1}\n`).join('') + `config FOO_${n}\n\tbool\n\tdepends on X86_64\n`;
    const reachWith = (n: number) => new KconfigReach(memoryTreeReader({ ...BASE, 'drivers/foo/Kconfig': chainOf(n), 'drivers/foo/Makefile': 'obj-$(CONFIG_FOO_0) += dev.o\n', 'drivers/Makefile': 'obj-y += foo/\n' }));
    expect(reachWith(50).reachOf('drivers/foo/dev.c')?.evidence).toContain('drivers/foo/Kconfig: FOO_50 depends on X86_64');
    expect(reachWith(30000).reachOf('drivers/foo/dev.c')).toBeNull();
  });

  it('reads the Kconfig index once per tree, and only when a symbol is asked about', () => {
    const c = cases[0]!;
    let kconfigReads = 0;
    const inner = memoryTreeReader(treeOf(c));
    const reader = { read: (p: string) => (p.includes('Kconfig') && kconfigReads++, inner.read(p)), list: inner.list };
    const reach = new KconfigReach(reader);
    expect(reach.reachOf('drivers/foo/unnamed.c')).toBeNull();
    expect(kconfigReads).toBe(0);
    expect(reach.reachOf('drivers/foo/dev.c')).not.toBeNull();
    const after = kconfigReads;
    expect(after).toBeGreaterThan(0);
    expect(reach.reachOf('drivers/foo/dev.c')).not.toBeNull();
    expect(kconfigReads).toBe(after);
  });
});
