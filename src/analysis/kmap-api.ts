/**
 * What the engine knows about the kernel's highmem mapping API (v6.12, include/linux/highmem*.h).
 * Every rule asks this module rather than keeping its own list of names, and configured out-of-tree
 * wrappers (OpenZFS's zfs_kmap_local, ...) are folded in here once.
 */
import type { EngineConfig } from './model.js';
import { blankCommentsAndStrings } from './syntax/blank.js';
import { isContextPrimitive } from './context/atomic-api.js';

/** local = kmap_local_*; atomic = kmap_atomic*; kmap = kmap(); pte = pte_offset_map* (a local kmap on HIGHPTE). */
export type MapFamily = 'local' | 'atomic' | 'kmap' | 'pte';

export interface MapFunction {
  name: string;
  family: MapFamily;
  /** Index of the argument that is the struct page / folio mapped, or null (pfn, pmd). */
  pageArg: number | null;
  /** The object mapped is a folio rather than a page. */
  folio: boolean;
}

export interface UnmapFunction {
  name: string;
  family: MapFamily;
  /** kunmap() takes the struct page; every other unmap takes the mapped address. */
  takesPage: boolean;
  /** Index of the argument that is the address (or, for kunmap(), the page) released. */
  addressArg: number;
}

const MAPS: MapFunction[] = [
  { name: 'kmap_local_page', family: 'local', pageArg: 0, folio: false },
  { name: 'kmap_local_page_prot', family: 'local', pageArg: 0, folio: false },
  { name: 'kmap_local_folio', family: 'local', pageArg: 0, folio: true },
  { name: 'kmap_local_pfn', family: 'local', pageArg: null, folio: false },
  { name: 'kmap_atomic', family: 'atomic', pageArg: 0, folio: false },
  { name: 'kmap_atomic_prot', family: 'atomic', pageArg: 0, folio: false },
  { name: 'kmap_atomic_pfn', family: 'atomic', pageArg: null, folio: false },
  { name: 'kmap', family: 'kmap', pageArg: 0, folio: false },
  { name: 'pte_offset_map', family: 'pte', pageArg: null, folio: false },
  { name: 'pte_offset_map_lock', family: 'pte', pageArg: null, folio: false },
  { name: 'pte_offset_map_nolock', family: 'pte', pageArg: null, folio: false },
  { name: 'pte_offset_map_ro_nolock', family: 'pte', pageArg: null, folio: false },
  { name: 'pte_offset_map_rw_nolock', family: 'pte', pageArg: null, folio: false },
];

const UNMAPS: UnmapFunction[] = [
  { name: 'kunmap_local', family: 'local', takesPage: false, addressArg: 0 },
  { name: 'kunmap_atomic', family: 'atomic', takesPage: false, addressArg: 0 },
  { name: 'kunmap', family: 'kmap', takesPage: true, addressArg: 0 },
  { name: 'pte_unmap', family: 'pte', takesPage: false, addressArg: 0 },
  { name: 'pte_unmap_unlock', family: 'pte', takesPage: false, addressArg: 0 },
  // include/linux/highmem.h (v6.5+): kunmap_local(addr) then folio_put()/put_page().
  { name: 'folio_release_kmap', family: 'local', takesPage: false, addressArg: 1 },
  { name: 'unmap_and_put_page', family: 'local', takesPage: false, addressArg: 1 },
];

/** The deprecated calls and what replaces them (checkpatch's %deprecated_apis, plus the _prot/_pfn forms). */
export const DEPRECATED_REPLACEMENTS: Readonly<Record<string, string>> = {
  kmap_atomic: 'kmap_local_page',
  kmap_atomic_prot: 'kmap_local_page_prot',
  kmap_atomic_pfn: 'kmap_local_pfn',
  kunmap_atomic: 'kunmap_local',
  kmap: 'kmap_local_page',
  kunmap: 'kunmap_local',
};

/** Helpers that map, copy or set, and unmap internally (include/linux/highmem.h). */
export const COPY_HELPERS = [
  'memcpy_from_page', 'memcpy_to_page', 'memcpy_page', 'memzero_page', 'memset_page',
  'memcpy_from_folio', 'memcpy_to_folio', 'folio_zero_range', 'folio_zero_segment', 'folio_zero_segments',
  'folio_zero_tail', 'folio_fill_tail', 'zero_user', 'zero_user_segment', 'zero_user_segments',
  'copy_highpage', 'copy_user_highpage', 'clear_highpage', 'clear_user_highpage',
] as const;

/**
 * Kernel functions that read or write through an address they are given and never unmap it: the string
 * and memory routines (lib/string.c, arch string.h), user copies (include/linux/uaccess.h), iov_iter
 * copies (include/linux/uio.h), checksums and hashes, cache maintenance, printk. A mapped address passed to
 * a function the replay cannot see is otherwise of unknown fate; passed to one of these, it is still mapped.
 * Also (v6.12): memcpy_from_bvec()/memcpy_to_bvec() (include/linux/bvec.h, a memcpy through bvec_kmap_local()
 * of the bvec's own page), xxhash() (include/linux/xxhash.h), kasan_reset_tag() (include/linux/kasan.h,
 * returns the address untagged), copy_to_user_page()/copy_from_user_page() (include/asm-generic/cacheflush.h
 * and the arches': memcpy and cache flushes).
 */
const NON_RELEASING = new Set([
  'memcpy', 'memmove', 'memset', 'memcmp', 'memchr', 'memchr_inv', 'memscan', 'memset16', 'memset32', 'memset64', 'memcpy_toio', 'memcpy_fromio',
  'memcpy_flushcache', 'memcpy_mcsafe', 'copy_mc_to_kernel', 'copy_mc_to_user',
  'strcpy', 'strncpy', 'strscpy', 'strlcpy', 'strcmp', 'strncmp', 'strlen', 'strnlen', 'strchr', 'strrchr', 'strstr', 'strcat', 'strncat', 'sprintf', 'snprintf', 'scnprintf', 'sscanf', 'kstrtoul', 'kstrtoint',
  'copy_to_user', 'copy_from_user', '__copy_to_user', '__copy_from_user', '__copy_to_user_inatomic', '__copy_from_user_inatomic', 'raw_copy_to_user', 'raw_copy_from_user',
  'copy_from_user_nofault', 'copy_to_user_nofault', 'copy_from_kernel_nofault', 'copy_to_kernel_nofault', 'clear_user', '__clear_user', 'strncpy_from_user',
  'copy_to_iter', 'copy_from_iter', 'copy_from_iter_full', 'copy_from_iter_nocache', '_copy_to_iter', '_copy_from_iter', 'csum_and_copy_to_iter', 'csum_and_copy_from_iter', 'iov_iter_zero',
  'crc32', 'crc32c', 'crc32_le', 'crc32_be', 'crc16', 'crc_itu_t', 'crc_t10dif', 'csum_partial', 'csum_partial_copy_nocheck', 'xxh64', 'adler32',
  'flush_dcache_page', 'flush_kernel_dcache_page', 'flush_icache_range', 'clflush_cache_range', 'drm_clflush_virt_range', 'dcache_clean_poc', 'kasan_check_read', 'kasan_check_write',
  'print_hex_dump', 'print_hex_dump_bytes', 'printk', 'pr_info', 'pr_err', 'pr_debug', 'pr_warn', 'dev_err', 'dev_info', 'dev_dbg', 'dev_warn', 'WARN', 'WARN_ON',
  'copy_page', 'clear_page', 'sg_copy_from_buffer', 'sg_copy_to_buffer', 'sg_pcopy_from_buffer', 'sg_pcopy_to_buffer', 'kmemdup', 'kstrndup',
  'xor_blocks', 'put_unaligned', 'get_unaligned', 'le32_to_cpu', 'cpu_to_le32', 'le64_add_cpu', 'le32_add_cpu', 'le16_add_cpu',
  'memcpy_from_bvec', 'memcpy_to_bvec', 'xxhash', 'kasan_reset_tag', 'copy_to_user_page', 'copy_from_user_page',
]);

/**
 * Functions that compute a `struct page *` from their arguments and nothing else (no state changed, the
 * same page for the same arguments): a page expression made of them names the same page at kmap() and
 * at kunmap() as long as its variables do not change in between (v6.12 sources):
 * - sg_page: include/linux/scatterlist.h, `(struct page *)((sg)->page_link & ~(SG_CHAIN | SG_END))`;
 * - pfn_to_page, page_to_pfn: include/asm-generic/memory_model.h, arithmetic on mem_map/vmemmap;
 * - virt_to_page: arch/{x86,arm,arm64,...}/include/asm/page.h, pfn_to_page(virt_to_pfn(kaddr));
 * - nth_page: include/linux/mm.h, pfn_to_page(page_to_pfn(page) + n);
 * - folio_page: include/linux/page-flags.h, nth_page(&folio->page, n);
 * - bio_page: include/linux/bio.h, bio_iovec(bio).bv_page (computed from bi_io_vec and bi_iter);
 * - skb_frag_page: include/linux/skbuff.h, netmem_to_page(frag->netmem), a cast.
 */
const PURE_PAGE_ACCESSORS = new Set(['sg_page', 'pfn_to_page', 'page_to_pfn', 'virt_to_page', 'nth_page', 'folio_page', 'bio_page', 'skb_frag_page']);

/**
 * Helpers that take a mapped address and return the address to use (and unmap) from then on
 * (include/linux/highmem.h, v6.5+): `folio_zero_tail(folio, offset, kaddr)` may unmap kaddr and map a later
 * page of a highmem folio. Name -> index of the address argument.
 */
const ADDRESS_RETURNING: Readonly<Record<string, number>> = { folio_zero_tail: 2 };

/** The unmap that pairs with a map family. */
export const UNMAP_FOR: Readonly<Record<MapFamily, string>> = {
  local: 'kunmap_local',
  atomic: 'kunmap_atomic',
  kmap: 'kunmap',
  pte: 'pte_unmap',
};

/** Calls of the deprecated APIs: what `fix` converts and `scan` counts (a cheap text test before parsing). */
export const DEPRECATED_CALL = /\b(?:kmap_atomic(?:_prot|_pfn)?|kunmap_atomic|kmap|kunmap)\s*\(/;

/**
 * Lexical count of the deprecated calls in a text (comments and strings included): what `scan --baseline`
 * counts for a file it could not analyse (too large, or its analysis failed), so such a file still fails
 * the ratchet when it gains uses.
 */
export function countDeprecatedCalls(text: string): number {
  // Comments and string/character literals out first (kept as a space), so that the count is of code, like
  // the sites of an analysed file; a mention in a comment is not a use.
  const code = blankCommentsAndStrings(text);
  return code.match(new RegExp(DEPRECATED_CALL.source, 'g'))?.length ?? 0;
}

/** Calls of any kmap()/kmap_atomic()/kmap_local_*() map or unmap (the tree scan's file and function prefilter). */
export const MAPPING_CALL = /\bk(?:un)?map(?:_local_\w+|_atomic\w*)?\s*\(/;

/** The API's own definitions and internals (include/linux/highmem*.h): `kmap_local_page`, `__kmap_local_pfn_prot`... */
export const API_DEFINITION = /^(?:__)?k(?:un)?map(?:_atomic\w*|_local\w*)?$/;

/**
 * Calls that, inside a kmap_atomic() section, may depend on the page faults or preemption it disabled
 * (the atomic user copies, the nofault accessors, per-CPU access, the checks of the atomic state, futex
 * atomics). With one of these in a function a rename is not an exact conversion.
 */
export const RELIES_ON_ATOMIC = /\b(?:__copy_(?:from|to)_user_inatomic\w*|copy_\w*_inatomic|\w*_nofault|smp_processor_id|(?:__)?this_cpu_\w+|raw_cpu_\w+|get_cpu_var|in_atomic|pagefault_disabled|faulthandler_disabled|futex_atomic\w*|arch_futex\w*)\s*\(/;

/** A C source or header, by its path: the one definition of which files the engine reads. */
export function isCPath(path: string): boolean {
  return /\.[ch]$/i.test(path);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class KmapApi {
  private readonly maps = new Map<string, MapFunction>();
  private readonly unmaps = new Map<string, UnmapFunction>();
  private readonly wrappers: string[] = [];

  private identityText: string | undefined;

  constructor(config?: Pick<EngineConfig, 'mapFunctions' | 'unmapFunctions'>) {
    for (const m of MAPS) this.maps.set(m.name, m);
    for (const u of UNMAPS) this.unmaps.set(u.name, u);
    for (const [wrapper, like] of Object.entries(config?.mapFunctions ?? {})) {
      const base = this.maps.get(like);
      if (!base) throw new Error(`map wrapper ${wrapper}: unknown kernel API '${like}' (one of ${MAPS.map((m) => m.name).join(', ')})`);
      this.maps.set(wrapper, { ...base, name: wrapper });
      this.wrappers.push(wrapper);
    }
    for (const [wrapper, like] of Object.entries(config?.unmapFunctions ?? {})) {
      const base = this.unmaps.get(like);
      if (!base) throw new Error(`unmap wrapper ${wrapper}: unknown kernel API '${like}' (one of ${UNMAPS.map((u) => u.name).join(', ')})`);
      this.unmaps.set(wrapper, { ...base, name: wrapper });
      this.wrappers.push(wrapper);
    }
  }

  map(name: string | null): MapFunction | undefined {
    return name ? this.maps.get(name) : undefined;
  }

  unmap(name: string | null): UnmapFunction | undefined {
    return name ? this.unmaps.get(name) : undefined;
  }

  /**
   * What this configuration changes in the vocabulary, as a string: equal for two KmapApi built from the
   * same wrappers, so results that depend only on the vocabulary can be shared between them.
   */
  get identity(): string {
    this.identityText ??= this.wrappers.map((w) => `${w}=${this.maps.get(w)?.family ?? ''}/${this.unmaps.get(w)?.family ?? ''}`).join(',');
    return this.identityText;
  }

  /** Configured out-of-tree wrapper names (map and unmap). */
  wrapperNames(): string[] {
    return this.wrappers;
  }

  /** The regex of calls to any map or unmap function, configured wrappers included. */
  get mappingCall(): RegExp {
    if (!this.mappingCallRe) {
      const names = this.wrappers.map(escapeRe);
      this.mappingCallRe = names.length ? new RegExp(`${MAPPING_CALL.source}|\\b(?:${names.join('|')})\\s*\\(`) : MAPPING_CALL;
    }
    return this.mappingCallRe;
  }
  private mappingCallRe: RegExp | null = null;

  /** True when the kernel function `name` never unmaps an address it is given (see NON_RELEASING). */
  releasesNothing(name: string | null): boolean {
    return !!name && (NON_RELEASING.has(name) || this.maps.has(name));
  }

  /** True when `name` computes a page from its arguments without side effects (see PURE_PAGE_ACCESSORS). */
  isPurePageAccessor(name: string | null): boolean {
    return !!name && PURE_PAGE_ACCESSORS.has(name);
  }

  /** For a helper returning the address to use instead of the one it is given: that argument's index. */
  returnsItsAddress(name: string | null): number | undefined {
    return name ? ADDRESS_RETURNING[name] : undefined;
  }

  /** True when `name` is one of the API's own functions (its definitions are not uses). */
  isApiDefinition(name: string): boolean {
    return API_DEFINITION.test(name);
  }

  /**
   * True when the context vocabulary (context/atomic-api.ts: what calls need from, do to, or say about the
   * execution context, each entry with the kernel source behind it) decides a call of `name`: callee
   * summaries stop there instead of reading a definition in the tree.
   */
  isContextPrimitive(name: string): boolean {
    return isContextPrimitive(name);
  }

  /** True when `text` may call an unmap (wrappers included): a prefilter before summarising a function. */
  mayUnmap(text: string): boolean {
    if (/\b(?:k?unmap|pte_unmap|folio_release_kmap|unmap_and_put_page)/.test(text)) return true;
    for (const name of this.unmaps.keys()) if (text.includes(name)) return true;
    return false;
  }

  /** True when `text` may contain a mapping call: a cheap prefilter before parsing. */
  mentionsMapping(text: string): boolean {
    if (/\bk(?:un)?map|pte_(?:offset_map|unmap)|mem(?:cpy|set|zero)_(?:from_|to_)?(?:page|folio)/.test(text)) return true;
    for (const name of this.maps.keys()) if (text.includes(name)) return true;
    for (const name of this.unmaps.keys()) if (text.includes(name)) return true;
    return false;
  }
}
