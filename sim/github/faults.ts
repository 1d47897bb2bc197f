/**
 * The simulated GitHub's fault switch: the next matching requests (after authentication, before
 * routing) fail with a status, GitHub-shaped body `{ message, documentation_url }` and headers —
 * rate limits, outages, permission errors.
 */
import type { FaultMatch } from '../fault-queue';
import { DOCS, HttpError } from './errors';

export interface Fault extends FaultMatch {
  status: number;
  message?: string;
  headers?: Record<string, string>;
}

/** The error a matched fault answers with. */
export function faultError(fault: Fault): HttpError {
  return new HttpError(fault.status, { message: fault.message ?? `Simulated failure (${fault.status})`, documentation_url: DOCS.rest }, { ...fault.headers });
}
