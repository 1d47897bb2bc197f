/**
 * The last line of the trust boundary, inside the worker: an activity acts only on what one of the
 * worker's own runbooks names, and a write that restarts anything only when the incident's own
 * history holds a genuine approval.
 *
 * Why here and not only in the workflow: whoever may write to the Temporal namespace can also poll
 * its task queue as a fake worker, run workflow code of their own and schedule this worker's
 * activities with any arguments. So every activity checks its target against the runbooks this
 * process loaded (a GitOps repository and file, a Deployment, an Argo CD application), and the
 * restart-causing writes (restart PR, merge, sync, emergency patch, revert PR) re-read the
 * workflow's history — events the Temporal server wrote from the callers' requests, which no worker
 * can forge — for an approval of that step by an approver of that runbook, through a channel it
 * allows, from an identity it allows, or with a valid ingress proof for Slack.
 */
import { Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import { identityRefusal } from '../domain/approval';
import type { DecisionChannel, DecisionStep } from '../domain/decision';
import { verifyDecisionProof } from '../domain/decision-proof';
import type { DiagnosisTarget } from '../domain/diagnosis';
import type { RunbookConfig } from '../domain/runbook-config';
import { namedFailure } from './errors';

interface Decision {
  decision?: unknown;
  by?: unknown;
  runId?: unknown;
  step?: unknown;
  slack?: { user?: unknown; issuedAt?: unknown; signature?: unknown };
  prerequisiteConfirmed?: unknown;
  emergency?: unknown;
  restartAnyway?: unknown;
}

interface HistoryEvent {
  workflowExecutionSignaledEventAttributes?: { signalName?: string | null; identity?: string | null; input?: { payloads?: Payload[] | null } | null } | null;
  workflowExecutionUpdateAcceptedEventAttributes?: {
    acceptedRequest?: {
      meta?: { identity?: string | null } | null;
      input?: { name?: string | null; args?: { payloads?: Payload[] | null } | null } | null;
    } | null;
  } | null;
}

function decode(payloads: Payload[] | null | undefined): Decision | null {
  const first = payloads?.[0];
  if (!first) return null;
  try {
    const value = defaultPayloadConverter.fromPayload<unknown>(first);
    return typeof value === 'object' && value !== null ? (value) : null;
  } catch {
    return null;
  }
}

/** The approvals the server recorded in a run's history: who, through which path, for which step. */
export function recordedApprovals(events: readonly HistoryEvent[]): Array<{ input: Decision; channel: DecisionChannel; identity: string | null }> {
  const out: Array<{ input: Decision; channel: DecisionChannel; identity: string | null }> = [];
  for (const event of events) {
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName === 'approve') {
      const input = decode(signal.input?.payloads);
      if (input) out.push({ input, channel: 'temporal', identity: signal.identity || null });
    }
    const update = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
    if (update?.input?.name === 'decide') {
      const input = decode(update.input.args?.payloads);
      if (input?.decision === 'approve') {
        const channel = typeof input.slack === 'object' && input.slack !== null ? 'slack' : 'cli';
        out.push({ input, channel, identity: update.meta?.identity || null });
      }
    }
  }
  return out;
}

export interface GuardDeps {
  runbooks: readonly RunbookConfig[];
  decisionKey?: string;
}

export function createGuard(deps: GuardDeps) {
  const refuse = (what: string, why: string) => namedFailure('NotAllowedError', `${what}: ${why}`);

  return {
    /** The runbook whose GitOps repository (and file, and branch) the input names. */
    gitops(what: string, input: { owner: string; repo: string; deploymentPath?: string; baseBranch?: string; ref?: string }): RunbookConfig {
      const runbook = deps.runbooks.find(
        (r) =>
          r.gitops.owner === input.owner &&
          r.gitops.repo === input.repo &&
          (input.deploymentPath === undefined || r.gitops.deploymentPath === input.deploymentPath) &&
          (input.baseBranch === undefined || r.gitops.baseBranch === input.baseBranch) &&
          (input.ref === undefined || r.gitops.baseBranch === input.ref),
      );
      if (!runbook) throw refuse(what, `${input.owner}/${input.repo} ${input.deploymentPath ?? ''} is not the GitOps file of any runbook this worker loaded`);
      return runbook;
    },

    /** The runbook whose Deployment (namespace, name, pods, container) the target names. */
    target(what: string, t: Pick<DiagnosisTarget, 'namespace' | 'deployment' | 'podSelector' | 'container'>): RunbookConfig {
      const runbook = deps.runbooks.find(
        (r) =>
          r.target.namespace === t.namespace &&
          r.target.deployment === t.deployment &&
          r.target.podSelector === t.podSelector &&
          r.target.container === t.container,
      );
      if (!runbook) throw refuse(what, `${t.namespace}/${t.deployment} is not the target of any runbook this worker loaded`);
      return runbook;
    },

    /** The runbook whose Argo CD application the input names. */
    argo(what: string, application: string): RunbookConfig {
      const runbook = deps.runbooks.find((r) => r.argo?.enabled && r.argo.application === application);
      if (!runbook) throw refuse(what, `Argo CD application ${application} is not synced by any runbook this worker loaded`);
      return runbook;
    },

    /**
     * Refuses unless this activity's own workflow run has, in its server-written history, an approval
     * of `step` that the runbook accepts. Called only inside an activity of an incident.
     */
    async approved(what: string, runbook: RunbookConfig, step: DecisionStep | 'any'): Promise<void> {
      let ctx: Context;
      try {
        ctx = Context.current();
      } catch {
        throw refuse(what, 'a write runs only as an activity of an approved incident');
      }
      const execution = ctx.info.workflowExecution;
      if (!execution) throw refuse(what, 'a write runs only as an activity of an approved incident');
      const history = await ctx.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      const ok = recordedApprovals(history.events ?? []).some(({ input, channel, identity }) => {
        const by = typeof input.by === 'string' ? input.by.trim() : '';
        if (input.runId !== execution.runId) return false;
        if (step !== 'any' && input.step !== step) return false;
        if (!runbook.approvers.some((a) => a.id === by)) return false;
        if (!runbook.approval.channels.includes(channel)) return false;
        if (identityRefusal(runbook, by, identity, channel) !== null) return false;
        if (channel !== 'slack') return true;
        const slack = input.slack!;
        const check = verifyDecisionProof(
          deps.decisionKey,
          {
            workflowId: execution.workflowId,
            runId: execution.runId,
            step: input.step as DecisionStep,
            decision: 'approve',
            by,
            prerequisiteConfirmed: input.prerequisiteConfirmed === true,
            emergency: input.emergency === true,
            restartAnyway: input.restartAnyway === true,
            user: String(slack.user),
            issuedAt: String(slack.issuedAt),
          },
          String(slack.signature),
          // The proof was checked when the decision was taken; here only that it was once valid.
          Date.parse(String(slack.issuedAt)),
        );
        return check.ok;
      });
      if (!ok) throw refuse(what, `no approval of the ${step === 'any' ? 'restart or rollback' : step} by an approver of runbook ${runbook.id} in incident ${execution.workflowId} (run ${execution.runId})`);
    },
  };
}

export type Guard = ReturnType<typeof createGuard>;
