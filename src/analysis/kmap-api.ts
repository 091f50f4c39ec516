/**
 * What the engine knows about the kernel's highmem mapping API (v6.12, include/linux/highmem*.h).
 * Every rule asks this module rather than keeping its own list of names, and configured out-of-tree
 * wrappers (OpenZFS's zfs_kmap_local, ...) are folded in here once.
 */
import type { EngineConfig } from './model.js';

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
  { name: 'kunmap_local', family: 'local', takesPage: false },
  { name: 'kunmap_atomic', family: 'atomic', takesPage: false },
  { name: 'kunmap', family: 'kmap', takesPage: true },
  { name: 'pte_unmap', family: 'pte', takesPage: false },
  { name: 'pte_unmap_unlock', family: 'pte', takesPage: false },
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

/** The unmap that pairs with a map family. */
export const UNMAP_FOR: Readonly<Record<MapFamily, string>> = {
  local: 'kunmap_local',
  atomic: 'kunmap_atomic',
  kmap: 'kunmap',
  pte: 'pte_unmap',
};

export class KmapApi {
  private readonly maps = new Map<string, MapFunction>();
  private readonly unmaps = new Map<string, UnmapFunction>();
  private readonly wrappers: string[] = [];

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

  /** Configured out-of-tree wrapper names (map and unmap). */
  wrapperNames(): string[] {
    return this.wrappers;
  }

  /** True when `text` may contain a mapping call: a cheap prefilter before parsing. */
  mentionsMapping(text: string): boolean {
    if (/\bk(?:un)?map|pte_(?:offset_map|unmap)|mem(?:cpy|set|zero)_(?:from_|to_)?(?:page|folio)/.test(text)) return true;
    for (const name of this.maps.keys()) if (text.includes(name)) return true;
    for (const name of this.unmaps.keys()) if (text.includes(name)) return true;
    return false;
  }
}
