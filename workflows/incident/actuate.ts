/**
 * Phase 4 — actuate, on the present and not on the alert of an hour ago:
 *
 * 1. pre-flight: readiness, replicas and the restart annotation read again right before acting.
 *    Ready now → `recovered-before-action` (unless the approver asked to restart anyway); restarted
 *    by someone else since the diagnosis → no second restart.
 * 2. the GitOps restart: a PR bumping restartedAt (replicas reset), merged by us (`merge: auto`) or
 *    watched until a human merges it (`merge: wait`) — in one-minute windows, each ending with the
 *    same pre-flight look, so a service that recovers (or is restarted by someone else) while the PR
 *    waits has its PR closed instead of a needless restart; then an Argo CD sync of the target
 *    Deployment only. Or the emergency direct restart, when enabled and asked for.
 *
 * The restart's moment (`state.restart.happenedAt`) is when it really took effect: the sync, the
 * merge (no Argo sync) or the patch — not the approval.
 */
import { ApplicationFailure, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import type { DecisionRecord } from '../../domain/decision';
import { durationMs } from '../../domain/duration';
import type { IncidentState, PreflightRecord, PullRequestRecord } from '../../domain/incident';
import { restartPullRequestBody } from '../../domain/pull-request-body';
import { stepReplies } from '../../domain/slack-replies';
import type { TargetLook } from '../../activities/waits';
import { act, argo, diag, watch } from './activities';
import { failureText, type Incident } from './context';
import { FAULT_REASONS_PATCH, liveRestartedAt } from './diagnose';
import { confirmArgoOwnership } from './ownership';

/** One watch window of a merge wait (activities/waits.ts caps it at a minute too). */
const MERGE_WINDOW_MS = 60_000;

type Finding = { stop: false } | { stop: true; outcome: 'recovered-before-action' | 'needs-human'; note: string };

/** What the present says about acting now. */
function judge(incident: Incident, look: TargetLook, decision: DecisionRecord): Finding {
  const seen = liveRestartedAt(incident.state.diagnosis);
  const name = `${incident.r.runbook.target.namespace}/${incident.r.runbook.target.deployment}`;
  if (look.restartedAt !== seen) {
    return {
      stop: true,
      outcome: look.ready ? 'recovered-before-action' : 'needs-human',
      note: `${name} was restarted by someone else since the diagnosis (restartedAt ${seen ?? 'none'} → ${look.restartedAt ?? 'none'}): not restarting it a second time`,
    };
  }
  if (look.ready && !decision.restartAnyway) {
    return {
      stop: true,
      outcome: 'recovered-before-action',
      note: `${name} is Ready again (${look.detail}): nothing was restarted (approve with restartAnyway to restart regardless)`,
    };
  }
  return { stop: false };
}

function record(incident: Incident, before: PreflightRecord['before'], look: TargetLook, finding: Finding): void {
  const entry: PreflightRecord = {
    before,
    at: look.at,
    ready: look.ready,
    replicas: look.replicas,
    restartedAt: look.restartedAt,
    finding: finding.stop ? finding.note : `${look.detail}: going ahead`,
  };
  const { preflights } = incident.state;
  // While a PR waits, only the latest look of that wait is kept.
  if (before === 'sync' && preflights.at(-1)?.before === 'sync') preflights[preflights.length - 1] = entry;
  else preflights.push(entry);
}

/** Runs the restart; the closed state when the incident ends here, or null to go on to verification. */
export async function actuate(incident: Incident, decision: DecisionRecord): Promise<IncidentState | null> {
  const { state } = incident;
  const { runbook, target, change } = incident.r;

  let look: TargetLook;
  try {
    look = await diag.lookAtTarget(target);
  } catch (err) {
    if (isCancellation(err)) throw err;
    return incident.close('needs-human', `the pre-flight could not read ${target.namespace}/${target.deployment} now (${failureText(err)}): not acting blind`);
  }
  const finding = judge(incident, look, decision);
  record(incident, 'pull-request', look, finding);
  if (finding.stop) return incident.close(finding.outcome, finding.note);

  const restartedAt = new Date().toISOString();
  if (decision.emergency) {
    incident.enter('syncing');
    if (state.dryRun) return incident.close('needs-human', 'dry run: the emergency restart was approved but not performed');
    await act.patchRestartedAt(target, restartedAt, runbook.target.expectedReplicas);
    state.restart = { how: 'emergency', restartedAt, happenedAt: new Date().toISOString() };
    incident.note('emergency direct restart applied through the API: Argo CD will show drift until the GitOps repo is reconciled');
    return null;
  }

  const notApplied = await confirmArgoOwnership(incident);
  if (notApplied) return notApplied;

  incident.enter('opening-pr');
  state.pullRequest = await act.openRestartPullRequest({
    ...change,
    restartedAt,
    expectedReplicas: runbook.target.expectedReplicas,
    title: `Restart ${runbook.target.namespace}/${runbook.target.deployment} (${state.classification!.class})`,
    body: restartPullRequestBody({
      namespace: runbook.target.namespace,
      deployment: runbook.target.deployment,
      runbookId: runbook.id,
      workflowId: state.workflowId,
      workflowLink: workflowLink(incident),
      classification: state.classification!,
      decision,
      prerequisite: state.prerequisite,
    }),
    dryRun: state.dryRun,
  });
  if (state.dryRun) return incident.close('needs-human', 'dry run: the restart PR was computed but nothing was written');
  state.restart = { how: 'gitops', restartedAt };

  incident.enter('awaiting-merge');
  await incident.publish();
  await incident.replyStep('pull-request', stepReplies.pullRequest(state.pullRequest, runbook.gitops.merge));
  const merged = await awaitMerge(incident, state.pullRequest, decision);
  if ('closed' in merged) return merged.closed;
  state.pullRequest = merged.pr;
  await incident.replyStep('merged', stepReplies.merged(merged.pr));
  state.restart.happenedAt = merged.pr.mergedAt ?? new Date().toISOString();
  await syncTarget(incident, (at) => (state.restart!.happenedAt = at));
  return null;
}

/**
 * The PR merged: by us at once (`merge: auto`), or by a human within `mergeTimeout`, watched in
 * windows. With a `decision` (the restart PR), each window that ends with the PR open looks at the
 * target; without one (the revert PR), it only watches. A merge that races the timeout counts as
 * merged; past the timeout the PR is closed with a comment and the wait fails.
 */
export async function awaitMerge(
  incident: Incident,
  pr: PullRequestRecord,
  decision?: DecisionRecord,
): Promise<{ pr: PullRequestRecord } | { closed: IncidentState }> {
  const { runbook, target, change } = incident.r;
  const repo = { owner: change.owner, repo: change.repo };
  if (runbook.gitops.merge === 'auto') return { pr: await act.mergePullRequest({ ...repo, pr }) };

  const deadline = Date.now() + durationMs(runbook.gitops.mergeTimeout);
  const pollIntervalMs = durationMs(runbook.gitops.mergePollInterval);
  let current = pr;
  for (;;) {
    const left = deadline - Date.now();
    const seen = await watch.watchMerge({
      ...repo,
      pr: current,
      pollIntervalMs,
      windowMs: Math.max(0, Math.min(left, MERGE_WINDOW_MS)),
      ...(decision ? { target } : {}),
    });
    current = seen.pr;
    if (seen.state === 'merged') return { pr: current };
    if (seen.state === 'closed') {
      keepRecord(incident, current);
      throw ApplicationFailure.create({
        type: 'PullRequestClosedError',
        message: `PR #${current.number} was closed without being merged: nothing was restarted`,
        nonRetryable: true,
      });
    }
    if (decision && seen.present) {
      const finding = judge(incident, seen.present, decision);
      record(incident, 'sync', seen.present, finding);
      if (finding.stop) {
        incident.state.pullRequest = await act.closePullRequest({
          ...repo,
          pr: current,
          comment: `Closed by AgentRuns: ${finding.note}.`,
        });
        if (incident.state.pullRequest.merged) return { pr: incident.state.pullRequest };
        incident.state.restart = null;
        return { closed: await incident.close(finding.outcome, `${finding.note}; closed the unmerged PR #${current.number}`) };
      }
    }
    if (Date.now() >= deadline) {
      // Closing a PR that was merged a moment ago returns it merged: that merge counts.
      const last = await act.closePullRequest({
        ...repo,
        pr: current,
        comment: `Closed by AgentRuns: not merged within ${runbook.gitops.mergeTimeout}; incident ${incident.state.workflowId} gave up waiting. Nothing was restarted by this PR.`,
      });
      if (last.merged) return { pr: last };
      keepRecord(incident, last);
      incident.note(`closed the unmerged PR #${last.number}`);
      throw ApplicationFailure.create({
        type: 'TimeoutError',
        message: `PR #${current.number} was not merged within ${runbook.gitops.mergeTimeout} (closed it)`,
        nonRetryable: true,
      });
    }
  }
}

/** Keeps the latest record of a PR in whichever field holds it: the restart PR or the revert PR. */
function keepRecord(incident: Incident, pr: PullRequestRecord): void {
  const { state } = incident;
  if (state.pullRequest?.number === pr.number) state.pullRequest = pr;
  else if (state.rollback?.pullRequest?.number === pr.number) state.rollback.pullRequest = pr;
}

/** The Argo CD sync of the target Deployment only, when the runbook enables it. */
export async function syncTarget(incident: Incident, synced: (at: string) => void): Promise<void> {
  const { runbook, target } = incident.r;
  const config = runbook.argo;
  if (!config?.enabled) return;
  incident.enter('syncing');
  try {
    incident.state.argoSync = await argo(durationMs(config.syncTimeout)).syncArgoApplication({
      application: config.application,
      timeoutMs: durationMs(config.syncTimeout),
      resources: [{ group: 'apps', kind: 'Deployment', name: target.deployment, namespace: target.namespace }],
    });
    synced(incident.state.argoSync.at);
    await incident.replyStep(incident.state.rollback?.pullRequest ? 'synced-rollback' : 'synced', stepReplies.synced(incident.state.argoSync));
    const { operation, status, health } = incident.state.argoSync;
    if (operation?.endsWith('(timed out)') && patched(FAULT_REASONS_PATCH)) {
      incident.note(
        `Argo CD sync of ${config.application} did not finish within ${config.syncTimeout} (operation ${operation.replace(/ \(timed out\)$/, '')}, ${status}/${health}); ` +
          'verifying whether the change reached the cluster anyway',
      );
    }
  } catch (err) {
    // The PR is merged: Argo CD's own auto-sync may still apply it. Verification decides.
    if (isCancellation(err)) throw err;
    incident.note(`Argo CD sync of ${config.application} failed (${failureText(err)}); verifying whether the change reached the cluster anyway`);
  }
}

function workflowLink(incident: Incident): string {
  const ui = incident.r.temporalUiUrl;
  const { workflowId } = incident.state;
  return ui ? `${ui}/namespaces/${workflowInfo().namespace}/workflows/${encodeURIComponent(workflowId)}` : `workflow ${workflowId}`;
}
