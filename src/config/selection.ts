/**
 * The files a configuration selects: its `include` globs minus its `exclude` globs (minimatch, dot files
 * matched, paths relative to the repository root). One definition for the App's pull-request review and
 * tree scan and for the CLI given `--config`.
 */
import { minimatch } from 'minimatch';

export interface PathGlobs {
  include: readonly string[];
  exclude: readonly string[];
}

const OPTIONS = { dot: true, matchBase: false };

export function isSelected(path: string, globs: PathGlobs): boolean {
  return globs.include.some((g) => minimatch(path, g, OPTIONS)) && !globs.exclude.some((g) => minimatch(path, g, OPTIONS));
}
