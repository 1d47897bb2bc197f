/**
 * The incident workflow: one per target (ID from `incidentWorkflowId`: namespace and Deployment),
 * started with signal-with-start and WorkflowIdConflictPolicy.USE_EXISTING, so a second alert
 * attaches instead of starting a second remediation.
 *
 *   0. resolve    the runbook named by ID, from the worker's own config (./incident/resolve.ts)
 *   1. diagnose   read-only activities in parallel; 2. classify (./incident/diagnose.ts)
 *   3. decide     wait for a verified approve / reject of the restart (./incident/decisions.ts)
 *   4. actuate    pre-flight, GitOps PR, merge, Argo CD sync — or the emergency restart (./incident/actuate.ts)
 *   5. verify     rollout and readiness; else a rollback offer (./incident/verify.ts)
 *   6. hold       after a close that changed nothing, the alert's re-sends counted here, not
 *                 opened as new incidents (./incident/hold.ts)
 *
 * Messages (./messages.ts, registered in ./incident/handlers.ts): query `status` (the whole
 * IncidentState), signals `approve`, `reject`, `alertFired` (`alertsFired`: several at once), `alertResolved`, `decisionRefused`,
 * Update `decide`. Timeouts from the runbook: approval (→ expired), merge, verification, cool-down.
 * Outcomes: refused, healthy-no-action, needs-human, expired, rejected, recovered-before-action,
 * remediated, verification-failed, failed. The result is the final IncidentState: the audit record.
 *
 * Versioning: incidents started before the trust boundary (no TRUST_BOUNDARY_PATCH marker in their
 * history) run the frozen version 1 (./v1/), so they replay and finish as they began.
 */
import { isCancellation, log, patched } from '@temporalio/workflow';
import { prerequisiteFor } from '../domain/approval';
import { stepReplies } from '../domain/slack-replies';
import { durationMs } from '../domain/duration';
import type { IncidentInput, IncidentState } from '../domain/incident';
import { actuate } from './incident/actuate';
import { act } from './incident/activities';
import { failureText, Incident } from './incident/context';
import { DecisionIntake } from './incident/decisions';
import { diagnose } from './incident/diagnose';
import { gatherPrerequisiteEvidence } from './incident/prerequisite-evidence';
import { registerHandlers } from './incident/handlers';
import { holdResends, openedFromHold } from './incident/hold';
import { resolveRunbook } from './incident/resolve';
import { verify } from './incident/verify';
import { incidentWorkflowV1, type IncidentInputV1 } from './v1/incident-v1';

export const TRUST_BOUNDARY_PATCH = 'agentruns-trust-boundary';

export async function incidentWorkflow(input: IncidentInput): Promise<IncidentState> {
  if (!patched(TRUST_BOUNDARY_PATCH)) return (await incidentWorkflowV1(input as unknown as IncidentInputV1)) as unknown as IncidentState;

  const incident = new Incident(input);
  const intake = new DecisionIntake(incident);
  registerHandlers(incident, intake);
  openedFromHold(incident, input);
  await respond(incident, intake, input);
  return await holdResends(incident);
}

/** Phases 0–5: from the alert to the outcome; the state is closed when this returns. */
async function respond(incident: Incident, intake: DecisionIntake, input: IncidentInput): Promise<IncidentState> {
  try {
    const refusal = await resolveRunbook(incident, input);
    if (refusal) return await incident.close('refused', refusal);

    const ended = await diagnose(incident);
    if (ended) return ended;

    const decision = await approveRestart(incident, intake);
    if (!decision) return await incident.close('expired', `no decision within ${incident.r.runbook.timeouts.approval}; nothing was changed`);
    if (decision.decision === 'reject') return await incident.close('rejected', `rejected by ${decision.by}`);

    return (await actuate(incident, decision)) ?? (await verify(incident, intake));
  } catch (err) {
    if (isCancellation(err)) {
      incident.note(`cancelled in phase ${incident.state.phase}`);
      throw err;
    }
    const message = failureText(err);
    incident.state.error = message;
    await closeAbandonedPullRequests(incident, message);
    log.error('incident failed', { error: message });
    return await incident.close('failed', `failed in phase ${incident.state.phase}: ${message}`);
  }
}

/** Phase 3: the human's decision on the restart, or null when none came in time. */
async function approveRestart(incident: Incident, intake: DecisionIntake) {
  const { state } = incident;
  state.prerequisite = prerequisiteFor(incident.r.runbook, state.classification);
  await gatherPrerequisiteEvidence(incident);
  incident.enter('awaiting-approval');
  await incident.publish();
  state.decision = await intake.awaitDecision(durationMs(incident.r.runbook.timeouts.approval));
  if (state.decision) await incident.replyStep('decision-restart', stepReplies.decision(state.decision));
  return state.decision;
}

/**
 * A restart (or revert) PR left open by a failed incident would act whenever someone merges it, with
 * nothing watching: close each, saying why. Best effort — the incident is failing already.
 */
async function closeAbandonedPullRequests(incident: Incident, reason: string): Promise<void> {
  const { state } = incident;
  const change = incident.resolved?.change;
  if (!change) return;
  const open = [state.pullRequest, state.rollback?.pullRequest].filter(
    (pr): pr is NonNullable<typeof pr> => !!pr && !pr.merged && !pr.closed && !pr.dryRun && pr.number !== 0,
  );
  for (const pr of open) {
    try {
      const closed = await act.closePullRequest({
        owner: change.owner,
        repo: change.repo,
        pr,
        comment: `Closed by AgentRuns: incident ${state.workflowId} failed in phase ${state.phase} (${reason}). Nothing was restarted by this PR.`,
      });
      if (state.pullRequest?.number === pr.number) state.pullRequest = closed;
      else if (state.rollback) state.rollback.pullRequest = closed;
      incident.note(`closed the unmerged PR #${pr.number}`);
    } catch (err) {
      incident.note(`could not close the unmerged PR #${pr.number}: ${failureText(err)}`);
    }
  }
}
