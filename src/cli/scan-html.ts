/**
 * What `scan --format html` needs besides the scan: `fix`'s patch for every file with ready sites (the
 * same fixFile + buildPatches + renderSeries that `kmap-review fix` runs), and the subsystem of a path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPatches, fixFile, renderSeries } from '../analysis/convert/fix.js';
import { KmapApi } from '../analysis/kmap-api.js';
import type { EngineConfig } from '../analysis/model.js';
import { parseMaintainers } from '../analysis/scan/maintainers.js';
import { readGitFile } from '../analysis/scan/sources.js';
import { directoryOf } from '../analysis/scan/totals.js';
import type { TreeScan, TreeSource } from '../analysis/scan/tree.js';
import { initParser } from '../analysis/syntax/parser.js';

function readSource(source: TreeSource, commit: string | null, path: string): string | null {
  try {
    if (source.kind === 'dir') return readFileSync(join(source.root, path), 'utf8');
    if (source.kind === 'git') return readGitFile(source.repo, commit!, path);
    const item = source.items.find((i) => i.path === path);
    return item ? Buffer.from(item.bytes).toString('utf8') : null;
  } catch {
    return null;
  }
}

/** The `fix` patch of each file of the scan with ready sites, by path (files whose rewrite is dropped have none). */
export async function readyPatches(scan: TreeScan, source: TreeSource, config: EngineConfig): Promise<Map<string, string>> {
  await initParser();
  const api = new KmapApi(config);
  const out = new Map<string, string>();
  const files = [...new Set(scan.sites.filter((s) => s.class === 'ready').map((s) => s.path))];
  for (const path of files) {
    const text = readSource(source, scan.commit, path);
    if (text === null) continue;
    const fixed = fixFile(path, text, { api, config, addPagefaultDisable: false, helpers: true });
    const patches = buildPatches([fixed]);
    if (patches.length) out.set(path, renderSeries(patches));
  }
  return out;
}

/** The scan's grouping of a path: its MAINTAINERS entry when the tree has the file, else its directory. */
export function subsystemOfFor(scan: TreeScan, source: TreeSource): (path: string) => string {
  let text: string | null = null;
  if (scan.totals.bySubsystem) text = source.kind === 'git' ? readGitFile(source.repo, scan.commit!, 'MAINTAINERS') : source.kind === 'dir' ? readSource(source, null, 'MAINTAINERS') : null;
  const index = text ? parseMaintainers(text) : null;
  return index ? (p) => index.subsystemOf(p) ?? '(no MAINTAINERS entry)' : directoryOf;
}
