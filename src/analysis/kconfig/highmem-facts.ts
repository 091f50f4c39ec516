/**
 * The Kconfig facts the reach starts from: which symbols exclude HIGHMEM by themselves. Everything else is
 * derived from the tree's own Kconfig files (X86_64 `depends on 64BIT` in arch/x86/Kconfig; ARM64 is defined
 * in arch/arm64/Kconfig, an architecture without HIGHMEM).
 *
 * - `64BIT`: every definition of HIGHMEM in Linux 6.1 and 6.12 is for a 32-bit kernel. x86: `depends on
 *   X86_32` (arch/x86/Kconfig), mips: `depends on 32BIT`, powerpc: `depends on PPC32`, sparc: `default y if
 *   SPARC32`; arc, arm, csky, microblaze and xtensa have no 64-bit kernel. (`grep -A4 '^config HIGHMEM$'
 *   arch/* /Kconfig`.)
 * - `!HIGHMEM`: by definition.
 * - an architecture of NO_HIGHMEM_ARCHES (replay/query.ts): it has no HIGHMEM option at all.
 *
 * Without HIGHMEM kmap_local_page() is page_address() and kunmap_local() pushes nothing back
 * (include/linux/highmem-internal.h, the !CONFIG_HIGHMEM branch). CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP can be
 * set on x86_64 (it selects KMAP_LOCAL), but it only changes __kmap_local_pfn_prot() in mm/highmem.c, which
 * the !HIGHMEM kmap_local_page() never calls: it cannot make such a kernel push mappings.
 */
import { NO_HIGHMEM_ARCHES } from '../replay/query.js';

/** True when `symbol` being set (`positive`) or unset (`!positive`) means the kernel has no HIGHMEM. */
export function excludesHighmem(symbol: string, positive: boolean): boolean {
  return positive ? symbol === '64BIT' : symbol === 'HIGHMEM';
}

const NO_HIGHMEM = new Set<string>(NO_HIGHMEM_ARCHES);

/** True for an architecture (a directory name under arch/) that has no HIGHMEM option. */
export function archExcludesHighmem(arch: string): boolean {
  return NO_HIGHMEM.has(arch);
}
