/**
 * The simulated Slack's fault switches, acting on the next matching Web API calls after the token
 * was checked: an error answer as Slack gives it (HTTP 200 `{ ok: false, error }`, e.g.
 * `channel_not_found`, `invalid_auth`), Slack's rate limit (HTTP 429 `ratelimited` with a
 * `Retry-After` in seconds), or a wire fault (../fault-queue.ts: `delay`, `hang`, `dropAfterWrite`:
 * a message posted whose answer is lost). Calls are matched by their path, `/api/<method>`.
 */
import type { FaultMatch, WireFault } from '../fault-queue';

export interface SlackFault extends FaultMatch, WireFault {
  /** Answer `{ ok: false, error }` instead of calling the method. */
  error?: string;
  /** Answer HTTP 429 `ratelimited` with this Retry-After (seconds). */
  retryAfterSeconds?: number;
}

/** Matches the calls of one Web API method (e.g. `chat.postMessage`). */
export function apiMethod(method: string, times?: number): FaultMatch {
  return { path: `/api/${method}`, ...(times !== undefined ? { times } : {}) };
}

/** The matching call(s) answer Slack's `{ ok: false, error }`. */
export function slackError(error: string, match: FaultMatch = {}): SlackFault {
  return { ...match, error };
}

/** The matching call(s) are rate limited: HTTP 429, `Retry-After: retryAfterSeconds`. */
export function ratelimited(retryAfterSeconds: number, match: FaultMatch = {}): SlackFault {
  return { ...match, retryAfterSeconds };
}

/** What a matched fault answers instead of the method; null when it only misbehaves on the wire. */
export function slackFaultAnswer(fault: SlackFault): { status: number; headers: Record<string, string>; body: Record<string, unknown> } | null {
  if (fault.dropAfterWrite) return null;
  if (fault.retryAfterSeconds !== undefined) {
    return { status: 429, headers: { 'retry-after': String(fault.retryAfterSeconds) }, body: { ok: false, error: 'ratelimited' } };
  }
  if (fault.error) return { status: 200, headers: {}, body: { ok: false, error: fault.error } };
  return null;
}
