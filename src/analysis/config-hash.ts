import { createHash } from 'node:crypto';
import type { EngineConfig } from './model.js';

/**
 * A short identity of an engine configuration, for cache keys: results found under one configuration are
 * never reused under another. Keys are sorted, so the same settings hash the same whatever order the
 * YAML or the command line gave them in.
 */
export function configHash(config: EngineConfig): string {
  const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256')
    .update(JSON.stringify([sorted(config.rules), sorted(config.mapFunctions), sorted(config.unmapFunctions)]))
    .digest('hex')
    .slice(0, 16);
}
