/**
 * The activity proxies of the incident workflow, one per kind of work, each with its own bounded
 * timeouts and retries. Named failures listed in NON_RETRYABLE are permanent: retrying them cannot
 * help (a 404, a 403, bad input, a conflict), so they fail at once with their message.
 *
 * A lost worker costs seconds, never a start-to-close timeout: every activity heartbeats while it
 * runs (activities/context.ts keepAlive, every second), and every proxy has a heartbeat timeout of
 * {@link HEARTBEAT_TIMEOUT}, so the next worker gets the activity that much after the crash. The
 * start-to-close timeouts bound a live worker's slow calls instead (each client call has its own
 * deadline too), and the retry policies bound what a persistent outage costs.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../../activities';

export const NON_RETRYABLE = ['NotFoundError', 'NotAllowedError', 'InputError', 'ConflictError'];

/**
 * The SDK sends heartbeats at most every 80% of this; the server declares the worker lost this long
 * after the last one it got.
 */
export const HEARTBEAT_TIMEOUT = '8 seconds';

/** The worker's own records (config it loaded, history identities): fast, local, retried a few times. */
export const trust = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '500 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

const readOnly: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
};
/** Read-only diagnosis sources and the classifier. */
export const diag = proxyActivities<Activities>(readOnly);

/**
 * Writes (PR, merge, close, patch): idempotent, so a retry after a lost answer never acts twice.
 * Inside an attempt the GitHub client retries a 5xx twice (1 s, 4 s) and waits out rate limits of up
 * to 30 s each (heartbeating); so a persistent 5xx fails after three attempts in about 20 s, while a
 * rate limit too long to wait inside an attempt is retried after GitHub's own `retry-after`, within
 * the schedule-to-close bound.
 */
export const act = proxyActivities<Activities>({
  startToCloseTimeout: '3 minutes',
  scheduleToCloseTimeout: '15 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Slack is a courtesy channel: a failure is noted in the state, never fails the incident. */
export const notify = proxyActivities<Activities>({
  startToCloseTimeout: '20 seconds',
  scheduleToCloseTimeout: '1 minute',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * The windows of the long waits (merge, verification; activities/waits.ts): at most a minute each,
 * heartbeating every few seconds, so a crashed worker's window moves to the next worker within the
 * heartbeat timeout, and a window cut short by a worker rollout is simply followed by the next.
 */
export const watch = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * The Argo CD sync, which waits for its own operation, heartbeating every poll: a retry (a failed
 * poll, a lost worker) finds the operation it requested instead of requesting another.
 */
export function argo(syncTimeoutMs: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: syncTimeoutMs + 60_000,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
  });
}
