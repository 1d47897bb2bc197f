/**
 * A few named failures that every adapter maps its client's errors onto. The workflow's retry
 * policies list the permanent ones as non-retryable, so Temporal retries only what a retry can fix.
 * Every message names the operation and, when there was an answer, its HTTP status.
 *
 * `RateLimitedError` is retryable and carries the API's own `retry-after` as the delay before the
 * next attempt: a rate limit is waited out, never taken for a permission error.
 */
import { ApplicationFailure } from '@temporalio/common';

export const NON_RETRYABLE_ERROR_TYPES = [
  'NotFoundError',
  'NotAllowedError',
  'InputError',
  'ConflictError',
] as const;

export type NamedErrorType = (typeof NON_RETRYABLE_ERROR_TYPES)[number] | 'UpstreamError' | 'RateLimitedError';

/** Builds an ApplicationFailure of a named type; permanent types are marked non-retryable. */
export function namedFailure(type: NamedErrorType, message: string, cause?: unknown, options: { retryAfterMs?: number } = {}): ApplicationFailure {
  const nonRetryable = (NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(type);
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable,
    cause: cause instanceof Error ? cause : undefined,
    ...(options.retryAfterMs !== undefined && !nonRetryable ? { nextRetryDelay: Math.max(1, Math.round(options.retryAfterMs)) } : {}),
  });
}

/** Maps an HTTP status from any API (Kubernetes, GitHub, Argo CD, Slack) to a named failure. */
export function failureFromStatus(status: number | undefined, what: string, cause?: unknown): ApplicationFailure {
  const detail = cause instanceof Error && cause.message ? `: ${cause.message}` : '';
  if (status === 404) return namedFailure('NotFoundError', `${what}: not found (404)${detail}`, cause);
  if (status === 401 || status === 403) return namedFailure('NotAllowedError', `${what}: not allowed (${status})${detail}`, cause);
  if (status === 409) return namedFailure('ConflictError', `${what}: conflict (409)${detail}`, cause);
  if (status === 400 || status === 422) return namedFailure('InputError', `${what}: rejected (${status})${detail}`, cause);
  if (status === 429) return namedFailure('RateLimitedError', `${what}: rate limited (429)${detail}`, cause);
  return namedFailure('UpstreamError', `${what}: ${status ? `HTTP ${status}` : 'unreachable'}${detail}`, cause);
}

/** A rate limit answered by an API: retryable, after `retryAfterSeconds` (the API's own figure). */
export function rateLimitFailure(what: string, status: number, retryAfterSeconds: number, cause?: unknown): ApplicationFailure {
  const detail = cause instanceof Error && cause.message ? `: ${cause.message}` : '';
  return namedFailure('RateLimitedError', `${what}: rate limited (HTTP ${status}), retry after ${retryAfterSeconds} s${detail}`, cause, {
    retryAfterMs: retryAfterSeconds * 1000,
  });
}
