/**
 * The worker's side of the trust boundary: what a workflow may not take from its input or from a
 * message's fields, it asks the worker for here.
 *
 * - `resolveRunbook`: the runbook a start names, from the config this worker loaded at start-up
 *   (never from the start itself), with the worker's own Temporal UI link for PRs and Slack.
 * - `authenticateDecision`: the caller identity Temporal recorded for a decision — the `identity` of
 *   its `WorkflowExecutionSignaled` event (found by signal name and ordinal: signals reach their
 *   handlers in history order) or of its `WorkflowExecutionUpdateAccepted` event (by Update ID) —
 *   and, for a Slack decision, whether the ingress's HMAC proof holds under the key only the ingress
 *   and this worker have.
 */
import { Context } from '@temporalio/activity';
import type { RunbookConfig } from '../domain/runbook-config';
import { namedFailure } from './errors';
import { verifyDecisionProof, type ProofCheck, type ProvenDecision } from '../domain/decision-proof';

export interface TrustDeps {
  /** The runbooks this worker loaded at start-up: the only ones its incidents may follow. */
  runbooks: readonly RunbookConfig[];
  /** The Temporal Web UI, for links in PRs and Slack messages. */
  temporalUiUrl?: string;
  /** AGENTRUNS_DECISION_KEY: verifies the ingress's Slack decision proofs; without it none is accepted. */
  decisionKey?: string;
}

export interface ResolvedRunbook {
  runbook: RunbookConfig;
  temporalUiUrl?: string;
}

export type DecisionOrigin =
  | { kind: 'signal'; signalName: string; /** 1 for the first signal of that name in the run. */ ordinal: number }
  | { kind: 'update'; updateId: string };

export interface AuthenticateDecisionInput {
  origin: DecisionOrigin;
  /** Only for a decision carrying the ingress's Slack proof. */
  slack?: { decision: ProvenDecision; signature: string };
}

export interface DecisionAuthentication {
  /** The identity Temporal recorded for the call; null when the event could not be found. */
  identity: string | null;
  slack?: ProofCheck;
}

interface HistoryEvent {
  workflowExecutionSignaledEventAttributes?: { signalName?: string | null; identity?: string | null } | null;
  workflowExecutionUpdateAcceptedEventAttributes?: {
    acceptedRequest?: { meta?: { updateId?: string | null; identity?: string | null } | null } | null;
  } | null;
}

/** The identity recorded on the event that delivered the decision. */
export function identityFromHistory(events: readonly HistoryEvent[], origin: DecisionOrigin): string | null {
  if (origin.kind === 'signal') {
    let seen = 0;
    for (const event of events) {
      const signal = event.workflowExecutionSignaledEventAttributes;
      if (signal?.signalName !== origin.signalName) continue;
      seen += 1;
      // An empty identity (the Temporal Web UI without SSO sends none) is no identity.
      if (seen === origin.ordinal) return signal.identity || null;
    }
    return null;
  }
  for (const event of events) {
    const meta = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta;
    if (meta?.updateId === origin.updateId) return meta.identity || null;
  }
  return null;
}

export function createTrustActivities(deps: TrustDeps) {
  return {
    /** The runbook the worker loaded under this ID, or null: an unknown ID is refused by the workflow. */
    resolveRunbook(input: { runbookId: string }): Promise<ResolvedRunbook | null> {
      const runbook = deps.runbooks.find((r) => r.id === input.runbookId);
      if (!runbook) return Promise.resolve(null);
      return Promise.resolve({ runbook, ...(deps.temporalUiUrl ? { temporalUiUrl: deps.temporalUiUrl } : {}) });
    },

    async authenticateDecision(input: AuthenticateDecisionInput): Promise<DecisionAuthentication> {
      const ctx = Context.current();
      const execution = ctx.info.workflowExecution;
      if (!execution) throw namedFailure('InputError', 'authenticateDecision runs only for a workflow');
      const { workflowId, runId } = execution;
      const history = await ctx.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const identity = identityFromHistory(history.events ?? [], input.origin);
      if (!input.slack) return { identity };
      // Bound to this very run, whatever the workflow passed.
      const decision = { ...input.slack.decision, workflowId, runId };
      const slack = verifyDecisionProof(deps.decisionKey, decision, input.slack.signature, Date.now());
      return { identity, slack };
    },
  };
}

export type TrustActivities = ReturnType<typeof createTrustActivities>;
