/**
 * Long-running activities heartbeat and sleep through their Temporal context; called directly (in a
 * unit test or the one-shot CLI) they run without one.
 *
 * Every activity of the worker runs under {@link keepAlive}: while it runs — waiting out a rate
 * limit, a slow API, a poll interval — it heartbeats every second, re-sending the details it last
 * gave, so a worker that crashes is noticed within the proxy's heartbeat timeout (seconds) rather
 * than its start-to-close timeout; and a failure it ends with carries its attempt number, which the
 * workflow puts in the incident's error.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';

/** How often a running activity heartbeats; the proxies' heartbeat timeouts are several times this. */
export const KEEP_ALIVE_MS = 1_000;

/** The details each running activity heartbeated last, re-sent by its keep-alive. */
const lastDetails = new WeakMap<Context, unknown>();

export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeats `details`, which later keep-alive heartbeats repeat (they never clear them). */
export function heartbeat(details?: unknown): void {
  const ctx = activityContext();
  if (!ctx) return;
  lastDetails.set(ctx, details);
  ctx.heartbeat(details);
}

/** Sleeps, cancellably when inside an activity. */
export async function pause(ms: number): Promise<void> {
  const ctx = activityContext();
  if (ctx) await ctx.sleep(ms);
  else await new Promise((resolve) => setTimeout(resolve, ms));
}

/** The attempt an activity failure happened on, as {@link keepAlive} records it in the failure's details. */
export interface AttemptDetail {
  attempt: number;
}

/**
 * Runs an activity heartbeating every {@link KEEP_ALIVE_MS} while it runs. The first keep-alive comes
 * a second in, so the activity's own first heartbeat (e.g. the details a retry resumes from) is the
 * one sent at once. Until the activity heartbeats, the keep-alive repeats the previous attempt's
 * details rather than clearing them.
 */
export function keepAlive<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    const ctx = activityContext();
    if (!ctx) return fn(...args);
    const timer = setInterval(() => {
      ctx.heartbeat(lastDetails.has(ctx) ? lastDetails.get(ctx) : ctx.info.heartbeatDetails);
    }, KEEP_ALIVE_MS);
    try {
      return await fn(...args);
    } catch (err) {
      throw withAttempt(err, ctx.info.attempt);
    } finally {
      clearInterval(timer);
    }
  };
}

/** The failure with `{ attempt }` added to its details; cancellations and Temporal's own failures unchanged. */
function withAttempt(err: unknown, attempt: number): unknown {
  if (!(err instanceof Error) || (err instanceof TemporalFailure && !(err instanceof ApplicationFailure)) || err.name === 'AbortError') return err;
  const detail: AttemptDetail = { attempt };
  if (!(err instanceof ApplicationFailure)) {
    return ApplicationFailure.create({ type: err.name, message: err.message, details: [detail], cause: err });
  }
  // A Duration: milliseconds, or an ms-style string (passed on as it came).
  const nextRetryDelay: unknown = err.nextRetryDelay;
  const failure = ApplicationFailure.create({
    type: err.type ?? undefined,
    message: err.message,
    nonRetryable: err.nonRetryable ?? false,
    details: [...(err.details ?? []), detail],
    cause: err.cause,
    ...(typeof nextRetryDelay === 'number' || typeof nextRetryDelay === 'string' ? { nextRetryDelay: nextRetryDelay as number } : {}),
    ...(err.category ? { category: err.category } : {}),
  });
  failure.stack = err.stack;
  return failure;
}
