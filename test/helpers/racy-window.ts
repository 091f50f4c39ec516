/**
 * Waits past the racy window of what a test just wrote, for a scan given racyMs 0 (src/analysis/source/
 * file-stamp.ts: a file written in the millisecond the scan starts has no trusted stamp). Setting the mtime
 * back would not help: the ctime counts too.
 */
export const pastRacyWindow = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));
