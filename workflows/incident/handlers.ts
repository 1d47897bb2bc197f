/**
 * Every message handler of the incident, registered in one place before the first await:
 * the `status` query, the alert signals, and the decision signals and Update (see ./decisions.ts).
 * Whatever a message carries is bounded before it is kept (domain/bounds.ts).
 */
import { setHandler } from '@temporalio/workflow';
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

export function registerHandlers(incident: Incident, intake: DecisionIntake): void {
  const { state } = incident;
  setHandler(statusQuery, () => state);

  const recordAlert = (status: 'firing' | 'resolved', alert: unknown) => {
    const at = new Date().toISOString();
    pushCapped(state.alerts, { status, at, alert: boundAlert(alert) }, STATE_BOUNDS.alertEvents);
    state.alertCounts[status] += 1;
    if (status === 'resolved') state.resolvedAt = at;
    else delete state.resolvedAt;
  };
  setHandler(alertFiredSignal, (alert) => recordAlert('firing', alert));
  setHandler(alertResolvedSignal, (alert) => recordAlert('resolved', alert));

  setHandler(approveSignal, (input) => intake.fromSignal('approve', input));
  setHandler(rejectSignal, (input) => intake.fromSignal('reject', input));
  setHandler(decideUpdate, (input: DecideInput) => intake.fromUpdate(input), { validator: (input: DecideInput) => intake.validateUpdate(input) });
  setHandler(decisionRefusedSignal, (refusal) => intake.reported(refusal));
}
