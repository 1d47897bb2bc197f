/**
 * Every message handler of the incident, registered in one place before the first await:
 * the `status` query, the alert signals (an alert resolving, or firing again after that, updates
 * the Slack message at once; after the close, a hold of re-sends takes them: ./hold.ts), and the
 * decision signals and Update (see ./decisions.ts).
 * Whatever a message carries is bounded before it is kept (domain/bounds.ts).
 */
import { patched, setHandler } from '@temporalio/workflow';
import {
  alertFiredSignal,
  alertsFiredSignal,
  ALERTS_PER_SIGNAL,
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

  // The Slack message shows the alert resolving (or firing again) while the incident waits, not
  // only at its next step. Incidents begun before this (no marker) keep their command sequence.
  const alertSignal = (status: 'firing' | 'resolved') => async (alert: unknown) => {
    const shown = incident.recordAlert(status, alert);
    if (shown && state.slack && state.phase !== 'closed' && patched(ALERT_STATUS_PUBLISH_PATCH)) await incident.publish();
  };
  setHandler(alertFiredSignal, alertSignal('firing'));
  setHandler(alertsFiredSignal, async (alerts: unknown) => {
    const list = Array.isArray(alerts) ? alerts.slice(0, ALERTS_PER_SIGNAL) : [];
    let shown = false;
    for (const alert of list) shown = incident.recordAlert('firing', alert) || shown;
    if (shown && state.slack && state.phase !== 'closed') await incident.publish();
  });
  setHandler(alertResolvedSignal, alertSignal('resolved'));

  setHandler(approveSignal, (input) => intake.fromSignal('approve', input));
  setHandler(rejectSignal, (input) => intake.fromSignal('reject', input));
  setHandler(decideUpdate, (input: DecideInput) => intake.fromUpdate(input), { validator: (input: DecideInput) => intake.validateUpdate(input) });
  setHandler(decisionRefusedSignal, (refusal) => intake.reported(refusal));
}
