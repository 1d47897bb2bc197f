/**
 * Phase 5 — verify, and the rollback offer: the rollout carrying our restartedAt completes and every
 * new pod answers readiness 200, watched in half-minute windows until `timeouts.verification`
 * (so a worker rollout or crash loses nothing); then the runbook's own checks — the pods stay
 * stable, the status check holds (./recovery.ts). Otherwise a new diagnosis and — for a GitOps restart
 * — a revert PR behind its own approval, itself watched until merged and rolled out, or closed with
 * a comment when the incident ends without it. A restart that never reached the cluster (the
 * Deployment never carried our restartedAt: Argo CD unreachable, the sync failed) restarted nothing:
 * `needs-human`, no rollback offered (behind NOTHING_RESTARTED_PATCH); so does one whose rollout
 * could not be read at all (behind UNVERIFIABLE_PATCH): nothing is known to roll back.
 */
import { ApplicationFailure, patched } from '@temporalio/workflow';
import { durationMs } from '../../domain/duration';
import type { IncidentState, VerificationRecord } from '../../domain/incident';
import { collectDiagnosis } from '../../domain/collect-diagnosis';
import { revertPullRequestBody } from '../../domain/pull-request-body';
import { stepReplies } from '../../domain/slack-replies';
import { act, diag, watch } from './activities';
import { awaitMerge, syncTarget } from './actuate';
import type { Incident } from './context';
import type { DecisionIntake } from './decisions';
import { confirmRecovery, RECOVERY_CHECKS_PATCH } from './recovery';
import { classifyOptions, diagnosisOptions, liveRestartedAt } from './diagnose';

const VERIFY_WINDOW_MS = 30_000;

/** From this marker on, an incident whose restart never reached the cluster offers no rollback. */
export const NOTHING_RESTARTED_PATCH = 'agentruns-nothing-restarted';

/**
 * From this marker on, a verification whose last look could not read the rollout (the Deployment
 * refused or unreachable: RBAC tightened, API server down) ends `needs-human`: whether the restart
 * happened is unknown, so there is no rollback to offer.
 */
export const UNVERIFIABLE_PATCH = 'agentruns-unverifiable-restart';

/** Watches the rollout in windows until it is verified or `timeoutMs` has passed. */
async function watchRollout(incident: Incident, restartedAt: string | null, expectReady: boolean, timeoutMs: number): Promise<VerificationRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = Math.max(0, deadline - Date.now());
    const window = Math.min(left, VERIFY_WINDOW_MS);
    const result = await watch.verifyRestart({ target: incident.r.target, restartedAt, expectReady, timeoutMs: window });
    if (result.ok || Date.now() >= deadline) return result;
  }
}

export async function verify(incident: Incident, intake: DecisionIntake): Promise<IncidentState> {
  const { state } = incident;
  const { runbook, change } = incident.r;
  const restart = state.restart!;
  incident.enter('verifying');
  state.verification = await watchRollout(incident, restart.restartedAt, true, durationMs(runbook.timeouts.verification));
  if (state.verification.unchecked?.length) incident.note(`verification could not check: ${state.verification.unchecked.join('; ')}`);
  if (state.verification.ok) {
    const failed = await confirmRecovery(incident, state.verification);
    if (!failed) return incident.close('remediated');
    state.verification = { ...state.verification, ok: false, failedCheck: failed.name, detail: `${failed.name} check failed: ${failed.what}: ${failed.detail}` };
  } else if (patched(RECOVERY_CHECKS_PATCH)) {
    state.verification.failedCheck = 'rollout';
  }
  if (state.verification.restarted === false && patched(NOTHING_RESTARTED_PATCH)) {
    delete restart.happenedAt;
    const change = state.pullRequest?.merged ? `the merged PR #${state.pullRequest.number} is in Git but ` : '';
    return incident.close(
      'needs-human',
      `nothing restarted: ${change}the Deployment never carried restartedAt=${restart.restartedAt} within ${runbook.timeouts.verification} ` +
        `(${state.verification.detail}); no rollback to offer — apply the change (e.g. sync Argo CD) or revert it by hand`,
    );
  }

  if (state.verification.unchecked?.includes('rollout') && patched(UNVERIFIABLE_PATCH)) {
    return incident.close(
      'needs-human',
      `could not verify the restart within ${runbook.timeouts.verification}: ${state.verification.detail}; ` +
        'whether it restarted is unknown, so no rollback is offered — check the rollout by hand',
    );
  }

  const after = await collectDiagnosis(diag, runbook, diagnosisOptions());
  const reclassified = await diag.classifyIncident(after, classifyOptions(incident));
  state.verification.rediagnosedClass = reclassified.class;
  incident.note(`after the restart the service is still not ready: ${reclassified.class}`);
  const pr = state.pullRequest;
  if (restart.how !== 'gitops' || !pr || pr.number === 0) return incident.close('verification-failed');

  // The rollback offer: a revert PR, behind its own approval.
  state.rollback = { offered: true };
  incident.pending = null;
  incident.enter('awaiting-rollback-approval');
  await incident.publish();
  const decision = await intake.awaitDecision(durationMs(runbook.timeouts.approval));
  if (decision) state.rollback.decision = decision;
  if (decision) await incident.replyStep('decision-rollback', stepReplies.decision(decision));
  if (decision?.decision !== 'approve') return incident.close('verification-failed');

  incident.enter('rolling-back');
  const revert = await act.openRevertPullRequest({
    ...change,
    pr,
    body: revertPullRequestBody({
      number: pr.number,
      deployment: runbook.target.deployment,
      rediagnosedClass: reclassified.class,
      approvedBy: decision.by,
      channel: decision.channel,
    }),
  });
  state.rollback.pullRequest = revert;
  await incident.replyStep('pull-request-rollback', stepReplies.pullRequest(revert, runbook.gitops.merge, 'revert'));
  let merged: Awaited<ReturnType<typeof awaitMerge>>;
  try {
    merged = await awaitMerge(incident, revert);
  } catch (err) {
    // Not merged in time (closed with a comment) or closed by a human: the incident ends without it.
    if (!(err instanceof ApplicationFailure) || !['TimeoutError', 'PullRequestClosedError'].includes(err.type ?? '')) throw err;
    state.rollback.result = `revert PR #${revert.number} not merged: ${err.message}`;
    return incident.close('verification-failed');
  }
  if ('closed' in merged) return merged.closed;
  state.rollback.pullRequest = merged.pr;
  await syncTarget(incident, () => undefined);
  const rolledBack = await watchRollout(incident, liveRestartedAt(state.diagnosis), false, durationMs(runbook.timeouts.verification));
  state.rollback.result = rolledBack.ok
    ? `revert PR #${merged.pr.number} merged and rolled out (${rolledBack.detail})`
    : `revert PR #${merged.pr.number} merged, but its rollout was not seen complete: ${rolledBack.detail}`;
  return incident.close('verification-failed');
}
