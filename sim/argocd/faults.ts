/**
 * The simulated Argo CD's fault switch: the next matching requests fail with a status and body
 * (an outage, a proxy's HTML page, a permission error), after authentication and before routing.
 */
import type { FaultMatch } from '../fault-queue';
import { argoError, GRPC } from './responses';

/** An injected failure of the next matching request(s), answered with `body` as it is. */
export interface ArgoFault extends FaultMatch {
  status: number;
  /** JSON-encoded unless a string. Default: an Argo-shaped `{error, code, message}`. */
  body?: unknown;
}

/** What a matched fault answers: a JSON body, or text as it is. */
export function faultAnswer(fault: ArgoFault): { status: number; json?: unknown; text?: string } {
  const body = fault.body ?? argoError(`simulated failure (${fault.status})`, GRPC.internal);
  return typeof body === 'string' ? { status: fault.status, text: body } : { status: fault.status, json: body };
}
