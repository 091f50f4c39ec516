/** Which files the engine reviews: C sources and headers. Everything else becomes a SkippedFile. */

/** True for `.c` and `.h` files (the only languages the kmap rules understand). */
export function isReviewedPath(path: string): boolean {
  return path.endsWith('.c') || path.endsWith('.h');
}

export const NOT_C_REASON = 'not a C source or header (.c/.h): not analysed';
export const BINARY_REASON = 'binary patch: not analysed';
