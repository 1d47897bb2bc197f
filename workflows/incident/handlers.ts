/**
 * Every message handler of the incident, registered in one place before the first await:
 * the `status` query, the alert signals (an alert resolving, or firing again after that, updates
 * the Slack message at once), and the decision signals and Update (see ./decisions.ts).
 * Whatever a message carries is bounded before it is kept (domain/bounds.ts).
 */
import { patched, setHandler } from '@temporalio/workflow';
import { boundAlert, pushCapped, STATE_BOUNDS } from '../../domain/bounds';
import {
  alertFiredSignal,
  alertResolvedSignal,
  approveSignal,
  decideUpdate,
  decisionRefusedSignal,
  rejectSignal,
  statusQuery,
  type DecideInput,
} from '../messages';
import type { Incident } from './context';
import type { DecisionIntake } from './decisions';

/** Marks incidents whose Slack message is updated as soon as the alert resolves or fires again. */
export const ALERT_STATUS_PUBLISH_PATCH = 'agentruns-alert-status-publish';

export function registerHandlers(incident: Incident, intake: DecisionIntake): void {
  const { state } = incident;
  setHandler(statusQuery, () => state);

  /** Records an alert event; true when it changes what the Slack message says (resolved, or firing again). */
  const recordAlert = (status: 'firing' | 'resolved', alert: unknown): boolean => {
    const at = new Date().toISOString();
    const wasResolved = state.resolvedAt !== undefined;
    pushCapped(state.alerts, { status, at, alert: boundAlert(alert) }, STATE_BOUNDS.alertEvents);
    state.alertCounts[status] += 1;
    if (status === 'resolved') state.resolvedAt = at;
    else delete state.resolvedAt;
    return status === 'resolved' || wasResolved;
  };
  // The Slack message shows the alert resolving (or firing again) while the incident waits, not
  // only at its next step. Incidents begun before this (no marker) keep their command sequence.
  const alertSignal = (status: 'firing' | 'resolved') => async (alert: unknown) => {
    const shown = recordAlert(status, alert);
    if (shown && state.slack && state.phase !== 'closed' && patched(ALERT_STATUS_PUBLISH_PATCH)) await incident.publish();
  };
  setHandler(alertFiredSignal, alertSignal('firing'));
  setHandler(alertResolvedSignal, alertSignal('resolved'));

  setHandler(approveSignal, (input) => intake.fromSignal('approve', input));
  setHandler(rejectSignal, (input) => intake.fromSignal('reject', input));
  setHandler(decideUpdate, (input: DecideInput) => intake.fromUpdate(input), { validator: (input: DecideInput) => intake.validateUpdate(input) });
  setHandler(decisionRefusedSignal, (refusal) => intake.reported(refusal));
}
