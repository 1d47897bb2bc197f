/**
 * Before asking for approval (phase 3) of procedure B or C: the evidence for the prerequisite the
 * human confirms (domain/prerequisite-evidence.ts) — the sealed credentials' commits in Git since the
 * failure began (B), KAFKA_BOOTSTRAP in Git, live and as the runbook expects it (C). Read-only; it
 * informs the approval message and the state, it decides nothing: the human still confirms. A source
 * that cannot be read is recorded with its reason; an activity that fails altogether leaves a note.
 * New in-flight behaviour, so behind {@link PREREQUISITE_EVIDENCE_PATCH}.
 */
import { isCancellation, patched } from '@temporalio/workflow';
import { failureBegan } from '../../domain/prerequisite-evidence';
import { diag } from './activities';
import { failureText, type Incident } from './context';

export const PREREQUISITE_EVIDENCE_PATCH = 'agentruns-prerequisite-evidence';

/** Fills `state.prerequisiteEvidence` for procedures B and C; nothing for the others. */
export async function gatherPrerequisiteEvidence(incident: Incident): Promise<void> {
  const { state } = incident;
  const procedure = state.classification?.procedure;
  if ((procedure !== 'B' && procedure !== 'C') || !patched(PREREQUISITE_EVIDENCE_PATCH)) return;
  const alertStarts = [state.trigger.alert?.startsAt, ...state.alerts.map((a) => a.alert.startsAt)];
  const { since, sinceFrom } = failureBegan(alertStarts, state.startedAt);
  try {
    state.prerequisiteEvidence = await diag.collectPrerequisiteEvidence({ procedure, target: incident.r.target, since, sinceFrom });
  } catch (err) {
    if (isCancellation(err)) throw err;
    incident.note(`the evidence for procedure ${procedure}'s prerequisite could not be collected (${failureText(err)}): the approver checks it by hand`);
  }
}
