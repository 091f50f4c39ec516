/**
 * Analysis threads that share a process with a server run at background priority: the App's main thread
 * must answer webhooks within milliseconds while a worker thread analyses for seconds, and on a small
 * machine both want the same core. Linux schedules each thread on its own, with its own nice value;
 * /proc/thread-self names the calling thread, so a worker can lower its own priority (no privilege needed
 * to lower it). Elsewhere this does nothing.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Nice value of a background analysis thread (0 is normal, 19 the lowest). */
export const BACKGROUND_NICE = 10;

/** Lowers the calling thread's scheduling priority; false when the platform cannot (not Linux). */
export function runInBackground(nice = BACKGROUND_NICE): boolean {
  try {
    const tid = Number(/\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1]);
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
