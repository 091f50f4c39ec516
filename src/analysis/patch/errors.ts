/**
 * Errors caused by the user's input (a malformed patch, a patch that does not apply, a hostile
 * path, a bad git range...), as opposed to bugs in kmap-review itself.
 *
 * The CLI prints `kmap-review: <message>` and exits 2 for these, with no stack trace, so the
 * message alone must tell the user what is wrong and where: it always names the input file and,
 * when known, the line of the input, the patched file and the hunk at fault.
 */
export class InputError extends Error {
  override readonly name = 'InputError';

  constructor(message: string) {
    super(message);
  }
}

/** Re-throws an InputError with `context: ` in front (e.g. the input file or the patch of a series). */
export function withContext<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    // The same class (e.g. AlreadyAppliedError), so callers can still tell what happened.
    if (e instanceof InputError) throw new (e.constructor as new (m: string) => InputError)(`${context}: ${e.message}`);
    throw e;
  }
}

/** Quotes a line of code for an error message: JSON-style (tabs visible), cut to a readable length. */
export function quoteLine(text: string, max = 100): string {
  const cut = text.length > max ? `${text.slice(0, max)}...` : text;
  return JSON.stringify(cut);
}

/** A patch whose changes are already in the tree: it applies in reverse ("already applied"). */
export class AlreadyAppliedError extends InputError {}
