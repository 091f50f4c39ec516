/**
 * The patch the tree check run offers: for the ready sites of one directory (the one with the most
 * ready sites among the files read in this run; cached files have no text here), made by the same code
 * as `kmap-review fix`.
 */
import type { EngineConfig } from '../../analysis/model.js';
import type { ReadyPatch } from '../../comments/tree-check.js';
import { loadScanner } from '../engine.js';
import type { RepositoryScan } from './scan-repository.js';

/** Most files in one offered patch: the check run text is capped at 65,535 characters anyway. */
const PATCH_FILES = 12;

export async function offerReadyPatch(scan: RepositoryScan['scan'], texts: Map<string, string>, config: EngineConfig): Promise<ReadyPatch | null> {
  const { directoryOf, fixPatchForSites, KmapApi } = await loadScanner();
  const readyDirs = scan.totals.byDirectory.filter((d) => d.ready > 0);
  if (!readyDirs.length) return null;
  const perDir = new Map<string, number>();
  for (const site of scan.sites) if (site.class === 'ready' && texts.has(site.path)) perDir.set(directoryOf(site.path), (perDir.get(directoryOf(site.path)) ?? 0) + 1);
  const best = [...perDir].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
  if (!best) return { directory: readyDirs[0]!.name, sites: readyDirs[0]!.ready, patch: null };
  const [directory] = best;
  const files = [...texts].filter(([path]) => directoryOf(path) === directory).slice(0, PATCH_FILES).map(([path, text]) => ({ path, text }));
  const r = fixPatchForSites(files, { api: new KmapApi(config), config });
  return { directory, sites: r.converted, patch: r.patch || null };
}
