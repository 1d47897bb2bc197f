/**
 * The simulated GitHub's fault switches: the next matching requests (after authentication, before
 * routing) fail with a status, a GitHub-shaped body `{ message, documentation_url }` and headers —
 * outages, permission errors, and GitHub's two rate limits as GitHub answers them:
 * - secondary (abuse) limit: 403, "You have exceeded a secondary rate limit…", `retry-after` seconds;
 * - primary limit: 403, "API rate limit exceeded…", `x-ratelimit-remaining: 0` and the reset time.
 * `@octokit/plugin-throttling` recognises both by exactly these marks and waits before retrying.
 *
 * A fault may instead (or also) misbehave on the wire (../fault-queue.ts: `delay`, `hang`,
 * `dropAfterWrite`): a delayed request then answers with `status` when it has one, else normally.
 */
import type { FaultMatch, WireFault } from '../fault-queue';
import { DOCS, HttpError } from './errors';

export interface Fault extends FaultMatch, WireFault {
  /** Answer with this status instead of handling the request (not with `dropAfterWrite`). */
  status?: number;
  message?: string;
  documentationUrl?: string;
  headers?: Record<string, string>;
}

const RATE_LIMIT_DOCS = 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api';

/** GitHub's secondary rate limit on the matching request(s): 403 with `retry-after`. */
export function secondaryRateLimit(match: FaultMatch & { retryAfterSeconds?: number } = {}): Fault {
  const { retryAfterSeconds = 60, ...rest } = match;
  return {
    ...rest,
    status: 403,
    message:
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ' +
      'If you reach out to GitHub Support for help, please include the request ID SIM:0000:0000.',
    documentationUrl: `${RATE_LIMIT_DOCS}#about-secondary-rate-limits`,
    headers: { 'retry-after': String(retryAfterSeconds) },
  };
}

/** GitHub's primary rate limit on the matching request(s): 403, no requests left until `resetInSeconds`. */
export function primaryRateLimit(match: FaultMatch & { resetInSeconds?: number; login?: string } = {}): Fault {
  const { resetInSeconds = 60, login = 'agentruns-bot', ...rest } = match;
  return {
    ...rest,
    status: 403,
    message: `API rate limit exceeded for user ID ${login}. If you reach out to GitHub Support for help, please include the request ID SIM:0000:0000.`,
    documentationUrl: `${RATE_LIMIT_DOCS}#about-the-primary-rate-limit`,
    headers: {
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + resetInSeconds),
      'x-ratelimit-used': '5000',
    },
  };
}

/** The error a matched fault answers with; null when it only misbehaves on the wire. */
export function faultError(fault: Fault): HttpError | null {
  if (fault.status === undefined || fault.dropAfterWrite) return null;
  return new HttpError(
    fault.status,
    { message: fault.message ?? `Simulated failure (${fault.status})`, documentation_url: fault.documentationUrl ?? DOCS.rest },
    { ...fault.headers },
  );
}
