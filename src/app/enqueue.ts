/**
 * What every handler does with an event: drop a repeated delivery, enqueue a review or a command job,
 * refuse when full. Nothing here calls GitHub.
 */
import type { Context } from 'probot';
import {
  BacklogFull, type CommandRequest, type PullRequestState, type ReviewScheduler, type ScheduleResult,
} from './scheduler.js';

type AnyContext = Pick<Context, 'id' | 'log' | 'payload'>;

function installationOf(context: AnyContext): number | null {
  const inst = (context.payload as { installation?: { id?: unknown } | null }).installation;
  return typeof inst?.id === 'number' ? inst.id : null;
}

/** False (and logged) when this delivery id was seen before: the handler returns without doing anything. */
export async function firstDelivery(context: AnyContext, scheduler: ReviewScheduler): Promise<boolean> {
  if (await scheduler.firstDelivery(context.id)) return true;
  context.log.info({ delivery: context.id }, 'duplicate delivery: dropped');
  return false;
}

/**
 * Adds work for a delivery the handler has just marked as seen (`deliveryKey`). When the queue refuses it
 * (full: 503) or fails (Redis down: 500), the mark is removed before the error goes back to GitHub, so a
 * redelivery of the event is taken instead of being dropped as a duplicate: refused work is not lost.
 */
export async function addOrForget(scheduler: ReviewScheduler, deliveryKey: string, add: () => Promise<ScheduleResult>): Promise<ScheduleResult> {
  let result: ScheduleResult;
  try {
    result = await add();
  } catch (err) {
    await scheduler.forgetDelivery(deliveryKey).catch(() => undefined);
    throw err;
  }
  if (result === 'backlog-full') {
    await scheduler.forgetDelivery(deliveryKey).catch(() => undefined);
    throw new BacklogFull();
  }
  return result;
}

export function enqueueReview(
  context: AnyContext, scheduler: ReviewScheduler, pr: PullRequestState, trigger: string, force: boolean,
): Promise<ScheduleResult> {
  return addOrForget(scheduler, context.id, () => scheduler.schedule({
    installationId: installationOf(context), deliveryId: context.id, pr, trigger, force,
  }));
}

/** Enqueues a command job (command-job.ts) for this delivery; the worker does every GitHub call. */
export async function enqueueCommand(
  context: AnyContext, scheduler: ReviewScheduler, req: Omit<CommandRequest, 'installationId' | 'deliveryId'>,
): Promise<ScheduleResult> {
  const result = await addOrForget(scheduler, context.id, () => scheduler.scheduleCommand({ ...req, installationId: installationOf(context), deliveryId: context.id }));
  context.log.info({ pr: req.pullNumber, command: req.command.type, trigger: req.trigger, result }, 'command enqueued');
  return result;
}
