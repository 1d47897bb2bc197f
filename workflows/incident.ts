/**
 * The incident workflow: one per runbook and target (ID from `incidentWorkflowId`), started with
 * WorkflowIdConflictPolicy.USE_EXISTING so a second alert attaches instead of starting a second
 * remediation.
 *
 * 1. diagnose   — read-only activities in parallel; a failing source degrades the diagnosis.
 * 2. classify   — pure rules run as an activity, so rule changes never break replay.
 * 3. decide     — `healthy` ends as healthy-no-action, `unknown` and a target restarted within the
 *                 cool-down end as needs-human; otherwise wait for `approve` / `reject` (signals, or
 *                 the `decide` Update whose validator refuses at once) until `timeouts.approval`
 *                 → expired.
 * 4. actuate    — GitOps PR bumping restartedAt (replicas reset to 1), merge (wait or auto), Argo CD
 *                 sync when enabled; or the emergency direct restart when enabled and asked for.
 * 5. verify     — rollout complete and readiness 200 → remediated; otherwise verification-failed
 *                 with a new diagnosis and a rollback (revert PR) offered behind its own approval.
 *
 * Messages: query `status` (the whole IncidentState), signals `approve`, `reject`, `alertFired`,
 * `alertResolved`, Update `decide`. The result is the final IncidentState: the audit record.
 */
import {
  condition,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { decisionRefusal, prerequisiteFor } from '../domain/approval';
import { collectDiagnosis, diagnosisTarget } from '../domain/collect-diagnosis';
import { RESTARTED_AT_ANNOTATION, type Diagnosis } from '../domain/diagnosis';
import { durationMs } from '../domain/duration';
import {
  DECISION_CHANNELS,
  openingState,
  type AlertInfo,
  type DecisionChannel,
  type DecisionInput,
  type DecisionRecord,
  type IncidentInput,
  type IncidentState,
  type Outcome,
  type Phase,
  type PullRequestRecord,
} from '../domain/incident';

import { classKey, outcomeKey, runbookKey, targetKey } from '../domain/search-attributes';
import {
  alertFiredSignal,
  alertResolvedSignal,
  approveSignal,
  decideUpdate,
  decisionRefusedSignal,
  rejectSignal,
  statusQuery,
  type DecideInput,
} from './messages';
import { diagnosisSources } from './diagnosis-sources';

const NON_RETRYABLE = ['NotFoundError', 'NotAllowedError', 'InputError', 'ConflictError'];

const readOnly: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
};
const writes: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
};

const diag = proxyActivities<Activities>(readOnly);
const act = proxyActivities<Activities>(writes);
/** Slack is a courtesy channel: a failure is noted in the state, never fails the incident. */
const notify = proxyActivities<Activities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});
/** Keep at most this many alert events in state; the count is kept in notes beyond it. */
const MAX_ALERT_EVENTS = 50;
/** Refusals kept in state (audit); a flood of refused attempts cannot grow it without bound. */
const MAX_REFUSALS = 100;

export async function incidentWorkflow(input: IncidentInput): Promise<IncidentState> {
  const { runbook } = input;
  const info = workflowInfo();
  const target = diagnosisTarget(runbook);
  /** Where this incident's GitOps change lives: its own branch per run, in the runbook's repository. */
  const change = {
    workflowId: info.workflowId,
    runId: info.firstExecutionRunId,
    owner: runbook.gitops.owner,
    repo: runbook.gitops.repo,
    baseBranch: runbook.gitops.baseBranch,
    deploymentPath: runbook.gitops.deploymentPath,
  };
  const classifyOptions = {
    expectedReplicas: runbook.target.expectedReplicas,
    kafkaUser: target.kafkaUser,
    readinessPath: runbook.target.health.readinessPath,
  };
  const state: IncidentState = openingState({
    workflowId: info.workflowId,
    runId: info.runId,
    runbook,
    trigger: input.trigger,
    dryRun: input.dryRun,
    startedAt: new Date().toISOString(),
  });
  let pending: DecisionRecord | null = null;

  // ---- message handlers (registered before the first await) --------------------------------
  setHandler(statusQuery, () => state);

  const recordAlert = (status: 'firing' | 'resolved', alert: AlertInfo) => {
    state.alerts.push({ status, at: new Date().toISOString(), alert });
    if (state.alerts.length > MAX_ALERT_EVENTS) state.alerts.splice(0, state.alerts.length - MAX_ALERT_EVENTS);
    if (status === 'resolved') state.resolvedAt = new Date().toISOString();
  };
  setHandler(alertFiredSignal, (alert) => recordAlert('firing', alert));
  setHandler(alertResolvedSignal, (alert) => recordAlert('resolved', alert));

  /** The channel a sender claims, if it is one we know; signals default to the Temporal signal channel. */
  const channelOf = (claimed: unknown, fallback: DecisionChannel): DecisionChannel =>
    (DECISION_CHANNELS as readonly unknown[]).includes(claimed) ? (claimed as DecisionChannel) : fallback;

  const refusal = (decision: 'approve' | 'reject', d: DecisionInput) =>
    pending
      ? 'a decision was already taken for this step'
      : decisionRefusal({ phase: state.phase, procedure: state.classification?.procedure ?? null, runbook }, decision, d);

  const accept = (decision: 'approve' | 'reject', d: DecisionInput, fallback: DecisionRecord['channel']): DecisionRecord => {
    const record: DecisionRecord = {
      decision,
      by: d.by.trim(),
      comment: typeof d.comment === 'string' ? d.comment.slice(0, 2000) : undefined,
      prerequisiteConfirmed: d.prerequisiteConfirmed === true,
      emergency: d.emergency === true,
      channel: channelOf(d.channel, fallback),
      at: new Date().toISOString(),
    };
    pending = record;
    return record;
  };

  const onSignal = (decision: 'approve' | 'reject') => (d: DecisionInput) => {
    const reason = refusal(decision, d);
    if (reason) {
      if (state.refusals.length >= MAX_REFUSALS) return;
      state.refusals.push({
        by: typeof d?.by === 'string' ? d.by.slice(0, 200) : '(missing)',
        decision,
        channel: channelOf(d?.channel, 'temporal-signal'),
        reason,
        at: new Date().toISOString(),
      });
      log.warn('decision refused', { decision, by: d?.by, reason });
      return;
    }
    accept(decision, d, 'temporal-signal');
  };
  setHandler(decisionRefusedSignal, (r) => {
    if (state.refusals.length >= MAX_REFUSALS) return;
    state.refusals.push({
      by: String(r?.by ?? '(missing)').slice(0, 200),
      decision: r?.decision === 'reject' ? 'reject' : 'approve',
      channel: channelOf(r?.channel, 'update'),
      reason: String(r?.reason ?? '').slice(0, 500),
      at: new Date().toISOString(),
    });
  });
  setHandler(approveSignal, onSignal('approve'));
  setHandler(rejectSignal, onSignal('reject'));
  setHandler(decideUpdate, (d: DecideInput) => accept(d.decision, d, 'update'), {
    validator: (d: DecideInput) => {
      if (d?.decision !== 'approve' && d?.decision !== 'reject') throw new Error('decision must be "approve" or "reject"');
      const reason = refusal(d.decision, d);
      if (reason) throw new Error(reason);
    },
  });

  // ---- helpers ---------------------------------------------------------------------------
  const enter = (phase: Phase) => {
    const now = new Date().toISOString();
    const previous = state.timings[state.phase];
    if (previous && !previous.endedAt) {
      previous.endedAt = now;
      previous.ms = Date.parse(now) - Date.parse(previous.startedAt);
    }
    state.phase = phase;
    if (phase !== 'closed') state.timings[phase] = { startedAt: now };
  };

  /** Posts the incident to the runbook's Slack channel the first time, then updates that message. */
  const publish = async () => {
    // A dry run is a rehearsal: it posts nothing.
    if (!runbook.slack || state.dryRun) return;
    try {
      // The message never shows the raw diagnosis; leaving it out keeps every activity input small.
      const view: IncidentState = { ...state, diagnosis: null };
      const options = { channel: runbook.slack.channel, temporalUiUrl: input.temporalUiUrl };
      state.slack = state.slack
        ? ((await notify.updateIncidentMessage({ ...state.slack, state: view, temporalUiUrl: input.temporalUiUrl })) ?? state.slack)
        : await notify.postIncidentMessage(view, options);
    } catch (err) {
      const note = `Slack update failed: ${err instanceof Error ? err.message : String(err)}`;
      if (!state.notes.includes(note)) state.notes.push(note);
    }
  };

  const close = async (outcome: Outcome, note?: string): Promise<IncidentState> => {
    if (note) state.notes.push(note);
    enter('closed');
    state.outcome = outcome;
    state.closedAt = new Date().toISOString();
    upsertSearchAttributes([{ key: outcomeKey, value: outcome }]);
    log.info('incident closed', { outcome });
    await publish();
    return state;
  };

  /** Waits for the decision of the current step; `pending` was cleared when the step was entered. */
  const awaitDecision = async (): Promise<DecisionRecord | null> => {
    const decided = await condition(() => pending !== null, durationMs(runbook.timeouts.approval));
    return decided ? pending : null;
  };

  upsertSearchAttributes([
    { key: runbookKey, value: runbook.id },
    { key: targetKey, value: `${runbook.target.namespace}/${runbook.target.deployment}` },
  ]);

  try {
    // 1–2. diagnose and classify ------------------------------------------------------------
    enter('diagnosing');
    state.diagnosis = await collectDiagnosis(diagnosisSources(diag, readOnly), runbook);
    state.classification = await diag.classifyIncident(state.diagnosis, classifyOptions);
    upsertSearchAttributes([{ key: classKey, value: state.classification.class }]);
    const { procedure } = state.classification;

    if (state.classification.class === 'healthy') return await close('healthy-no-action', 'readiness is 200: nothing to do');
    if (procedure === null) {
      return await close('needs-human', 'the failure could not be classified; a human must diagnose it from the evidence');
    }
    if (!state.diagnosis.deployment.ok) {
      return await close('needs-human', 'the Deployment could not be read, so its restart history (cool-down) is unknown: not restarting blind');
    }
    const lastRestart = lastRestartOf(state.diagnosis);
    const cooldownMs = durationMs(runbook.timeouts.cooldown);
    if (lastRestart !== null && Date.now() - lastRestart < cooldownMs) {
      return await close(
        'needs-human',
        `restarted ${Math.round((Date.now() - lastRestart) / 60_000)} min ago, within the ${runbook.timeouts.cooldown} cool-down: ` +
          'escalating instead of restarting a flapping service in a loop',
      );
    }

    // 3. wait for a human -------------------------------------------------------------------
    state.prerequisite = prerequisiteFor(procedure);
    enter('awaiting-approval');
    await publish();
    const decision = await awaitDecision();
    state.decision = decision;
    if (!decision) return await close('expired', `no decision within ${runbook.timeouts.approval}; nothing was changed`);
    if (decision.decision === 'reject') return await close('rejected', `rejected by ${decision.by}`);

    // 4. actuate ---------------------------------------------------------------------------
    const restartedAt = new Date().toISOString();
    if (decision.emergency) {
      enter('syncing');
      if (state.dryRun) return await close('needs-human', 'dry run: the emergency restart was approved but not performed');
      await act.patchRestartedAt(target, restartedAt, runbook.target.expectedReplicas);
      state.notes.push('emergency direct restart applied through the API: Argo CD will show drift until the GitOps repo is reconciled');
    } else {
      enter('opening-pr');
      state.pullRequest = await act.openRestartPullRequest({
        ...change,
        restartedAt,
        expectedReplicas: runbook.target.expectedReplicas,
        title: `Restart ${runbook.target.namespace}/${runbook.target.deployment} (${state.classification.class})`,
        body: pullRequestBody(input, state),
        dryRun: state.dryRun,
      });
      if (state.dryRun) return await close('needs-human', 'dry run: the restart PR was computed but nothing was written');

      enter('awaiting-merge');
      await publish();
      state.pullRequest = await mergeOrWait(input, state.pullRequest);

      const argo = runbook.argo;
      if (argo?.enabled) {
        enter('syncing');
        try {
          state.argoSync = await proxyActivities<Activities>({
            startToCloseTimeout: durationMs(argo.syncTimeout) + 60_000,
            heartbeatTimeout: '1 minute',
            retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
          }).syncArgoApplication({ application: argo.application, timeoutMs: durationMs(argo.syncTimeout) });
        } catch (err) {
          // The PR is merged: Argo CD's own auto-sync may still apply it. Verification decides.
          if (isCancellation(err)) throw err;
          state.notes.push(`Argo CD sync of ${argo.application} failed (${failureText(err)}); verifying anyway`);
        }
      }
    }

    // 5. verify -----------------------------------------------------------------------------
    enter('verifying');
    const verificationMs = durationMs(runbook.timeouts.verification);
    state.verification = await proxyActivities<Activities>({
      startToCloseTimeout: verificationMs + 60_000,
      heartbeatTimeout: '1 minute',
      retry: { maximumAttempts: 2, nonRetryableErrorTypes: NON_RETRYABLE },
    }).verifyRestart({ target, restartedAt, timeoutMs: verificationMs });
    if (state.verification.ok) return await close('remediated');

    const after = await collectDiagnosis(diagnosisSources(diag, readOnly), runbook);
    const reclassified = await diag.classifyIncident(after, classifyOptions);
    state.verification.rediagnosedClass = reclassified.class;
    state.notes.push(`after the restart the service is still not ready: ${reclassified.class}`);
    if (!state.pullRequest || state.pullRequest.number === 0) return await close('verification-failed');

    // Rollback offer: a revert PR, behind its own approval.
    state.rollback = { offered: true };
    pending = null;
    enter('awaiting-rollback-approval');
    await publish();
    const rollback = await awaitDecision();
    if (rollback) state.rollback.decision = rollback;
    if (rollback?.decision === 'approve') {
      enter('rolling-back');
      state.rollback.pullRequest = await act.openRevertPullRequest({
        ...change,
        pr: state.pullRequest,
        body: `Reverts #${state.pullRequest.number}: the restart did not bring ${runbook.target.deployment} back (${reclassified.class}).\n\nApproved by ${rollback.by}.`,
      });
    }
    return await close('verification-failed');
  } catch (err) {
    if (isCancellation(err)) {
      state.notes.push(`cancelled in phase ${state.phase}`);
      throw err;
    }
    const message = failureText(err);
    state.error = message;
    await closeAbandonedPullRequest(input, state, message);
    log.error('incident failed', { error: message });
    return await close('failed', `failed in phase ${state.phase}: ${message}`);
  }
}

async function mergeOrWait(input: IncidentInput, pr: PullRequestRecord): Promise<PullRequestRecord> {
  const { gitops } = input.runbook;
  const repo = { owner: gitops.owner, repo: gitops.repo };
  if (gitops.merge === 'auto') return act.mergePullRequest({ ...repo, pr });
  const timeoutMs = durationMs(gitops.mergeTimeout);
  const pollMs = durationMs(gitops.mergePollInterval);
  return proxyActivities<Activities>({
    startToCloseTimeout: timeoutMs + 60_000,
    // The activity heartbeats once per poll: leave room for two polls.
    heartbeatTimeout: Math.max(120_000, 2 * pollMs + 30_000),
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE, 'PullRequestClosedError', 'TimeoutError'] },
  }).waitForMerge({ ...repo, pr, pollIntervalMs: pollMs, timeoutMs });
}

/**
 * The latest restart the target has had or is about to get: the live annotation, or the one in Git
 * (a restart merged but not yet synced counts too).
 */
function lastRestartOf(diagnosis: Diagnosis): number | null {
  const candidates = [
    diagnosis.deployment.ok ? diagnosis.deployment.value.templateAnnotations[RESTARTED_AT_ANNOTATION] : undefined,
    diagnosis.gitops?.ok ? diagnosis.gitops.value.restartedAt : undefined,
  ]
    .map((value) => (value ? Date.parse(value) : NaN))
    .filter((at) => Number.isFinite(at));
  return candidates.length ? Math.max(...candidates) : null;
}

/**
 * A restart PR left open by a failed incident would restart the service whenever someone merges it,
 * with nothing watching: close it, saying why. Best effort — the incident is failing already.
 */
async function closeAbandonedPullRequest(input: IncidentInput, state: IncidentState, reason: string): Promise<void> {
  const pr = state.pullRequest;
  if (!pr || pr.merged || pr.dryRun || pr.number === 0) return;
  try {
    state.pullRequest = await act.closePullRequest({
      owner: input.runbook.gitops.owner,
      repo: input.runbook.gitops.repo,
      pr,
      comment: `Closed by AgentRuns: incident ${state.workflowId} failed in phase ${state.phase} (${reason}). Nothing was restarted by this PR.`,
    });
    state.notes.push(`closed the unmerged PR #${pr.number}`);
  } catch (err) {
    state.notes.push(`could not close the unmerged PR #${pr.number}: ${failureText(err)}`);
  }
}

/** The innermost message: an activity failure carries the activity's own failure as its cause. */
function failureText(err: unknown): string {
  let current: unknown = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

function pullRequestBody(input: IncidentInput, state: IncidentState): string {
  const c = state.classification!;
  const link = input.temporalUiUrl
    ? `${input.temporalUiUrl}/namespaces/${workflowInfo().namespace}/workflows/${encodeURIComponent(state.workflowId)}`
    : `workflow ${state.workflowId}`;
  return [
    `Automated restart of \`${state.target.namespace}/${state.target.deployment}\` by AgentRuns (runbook \`${state.runbookId}\`).`,
    '',
    `**Diagnosis:** \`${c.class}\` — procedure ${c.procedure ?? 'none'} (${c.basis})`,
    `**Action:** ${c.action}`,
    `**Approved by:** ${state.decision?.by ?? '?'}${state.decision?.comment ? ` — “${state.decision.comment}”` : ''} at ${state.decision?.at ?? '?'}`,
    `**Workflow:** ${link}`,
    '',
    '**Evidence** (redacted):',
    '```',
    ...c.evidence.slice(0, 15).map((e) => `[${e.source}] ${e.text}`),
    '```',
    ...(c.notes.length ? ['', '**Notes:**', ...c.notes.map((n) => `- ${n}`)] : []),
    '',
    'Rollback: revert this PR and let Argo CD sync.',
  ].join('\n');
}
