/**
 * The simulated Argo CD's fault switches: the next matching requests fail with a status and body
 * (an outage, a proxy's HTML page, a permission error), after authentication and before routing —
 * or misbehave on the wire (../fault-queue.ts: `delay`, `hang`, `dropAfterWrite`: a sync that is
 * started but whose answer is lost). Argo CD unreachable altogether is `ArgoSim.setUnreachable`.
 */
import type { FaultMatch, WireFault } from '../fault-queue';
import { argoError, GRPC } from './responses';

/** An injected failure of the next matching request(s), answered with `body` as it is. */
export interface ArgoFault extends FaultMatch, WireFault {
  /** Answer with this status instead of handling the request (not with `dropAfterWrite`). */
  status?: number;
  /** JSON-encoded unless a string. Default: an Argo-shaped `{error, code, message}`. */
  body?: unknown;
}

/** What a matched fault answers: a JSON body, or text as it is; null when it only misbehaves on the wire. */
export function faultAnswer(fault: ArgoFault): { status: number; json?: unknown; text?: string } | null {
  if (fault.status === undefined || fault.dropAfterWrite) return null;
  const body = fault.body ?? argoError(`simulated failure (${fault.status})`, GRPC.internal);
  return typeof body === 'string' ? { status: fault.status, text: body } : { status: fault.status, json: body };
}
