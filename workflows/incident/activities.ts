/**
 * The activity proxies of the incident workflow, one per kind of work, each with its own bounded
 * timeouts and retries. Named failures listed in NON_RETRYABLE are permanent: retrying them cannot
 * help (a 404, a 403, bad input, a conflict), so they fail at once with their message.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../../activities';

export const NON_RETRYABLE = ['NotFoundError', 'NotAllowedError', 'InputError', 'ConflictError'];

/** The worker's own records (config it loaded, history identities): fast, local, retried a few times. */
export const trust = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

const readOnly: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
};
/** Read-only diagnosis sources and the classifier. */
export const diag = proxyActivities<Activities>(readOnly);

/** Writes (PR, merge, close, patch): idempotent, so a retry after a lost answer never acts twice. */
export const act = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Slack is a courtesy channel: a failure is noted in the state, never fails the incident. */
export const notify = proxyActivities<Activities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * The windows of the long waits (merge, verification; activities/waits.ts): at most a minute each,
 * heartbeating every few seconds, so a crashed worker's window moves to the next worker within the
 * heartbeat timeout, and a window cut short by a worker rollout is simply followed by the next.
 */
export const watch = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** The Argo CD sync, which waits for its own operation (heartbeating). */
export function argo(syncTimeoutMs: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: syncTimeoutMs + 60_000,
    heartbeatTimeout: '1 minute',
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
  });
}
