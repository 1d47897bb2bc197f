/**
 * Slack interactivity: the Approve / Reject buttons of the incident message.
 *
 * Order of checks (https://api.slack.com/authentication/verifying-requests-from-slack): the v0
 * signature `v0=HMAC_SHA256(signing secret, "v0:" + timestamp + ":" + raw body)` is compared in
 * constant time over the RAW bytes, and the timestamp must be within five minutes of now, before
 * the body is even decoded. Only then is the form's `payload` JSON parsed and validated.
 *
 * Slack wants an answer within 3 seconds, and a Temporal Update waits for the workflow, so the
 * request is acknowledged at once (200, empty body) and the decision is delivered afterwards; its
 * outcome goes back to the clicking user as an ephemeral message through the interaction's
 * `response_url` (or chat.postEphemeral when there is none).
 *
 * Who may decide: the Slack user is mapped to an approver of the incident's runbook by
 * `approvers[].slackUserId`, and the decision goes through the `decide` Update as that approver,
 * pinned to the message's run and step, carrying the ingress's proof of the verified click: an
 * HMAC under AGENTRUNS_DECISION_KEY (domain/decision-proof.ts), which the worker checks before it
 * records the decision as Slack's. Without the key, Slack buttons decide nothing. A Slack user who
 * is no approver gets an ephemeral refusal, and the attempt is reported to the incident (the
 * `decisionRefused` signal, recorded as reported) so it is in the audit trail, not only in logs.
 */
import { createHmac, timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { DecisionInput, DecisionRecord } from '../domain/decision';
import { signDecision } from '../domain/decision-proof';
import { incidentWorkflowId } from '../domain/incident';
import type { RunbookConfig } from '../domain/runbook-config';
import { APPROVE_ACTION_ID, DECISION_ACTION_IDS, parseDecisionButtonValue } from '../domain/slack-message';
import { decide as decideWithUpdate, DecisionRefusedError, recordRefusal } from '../control/incidents';
import type { Logger } from './logger';
import type { IngressMetrics, SlackRejectReason } from './metrics';

/** Slack's replay window: requests whose timestamp is further than this from now are refused. */
export const SLACK_TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing_headers' | 'stale_timestamp' | 'bad_signature'; message: string };

function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** The expected `X-Slack-Signature` for a body; also what the simulator's signer must produce. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: Buffer | string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

/**
 * Verifies Slack's v0 request signature over the raw body, and the replay window. Constant time:
 * both signatures are hashed to equal-length digests before `timingSafeEqual`, so neither the
 * length nor the content of a forged signature leaks through timing.
 */
export function verifySlackSignature(input: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer | string;
  nowMs?: number;
  toleranceSeconds?: number;
}): SignatureCheck {
  const { timestamp, signature } = input;
  if (!timestamp || !signature) {
    return { ok: false, reason: 'missing_headers', message: 'missing X-Slack-Request-Timestamp or X-Slack-Signature header' };
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, reason: 'stale_timestamp', message: 'X-Slack-Request-Timestamp is not a Unix time in seconds' };
  }
  const nowSeconds = Math.floor((input.nowMs ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > (input.toleranceSeconds ?? SLACK_TIMESTAMP_TOLERANCE_SECONDS)) {
    return { ok: false, reason: 'stale_timestamp', message: 'X-Slack-Request-Timestamp is outside the 5-minute window (replayed or clock skew)' };
  }
  const expected = sha256(slackSignature(input.signingSecret, timestamp, input.rawBody));
  const given = sha256(signature);
  if (!timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'bad_signature', message: 'X-Slack-Signature does not match the request body' };
  }
  return { ok: true };
}

const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1), username: z.string().optional(), name: z.string().optional() }),
  actions: z
    .array(z.object({ action_id: z.string(), type: z.string().optional(), value: z.string().optional(), block_id: z.string().optional() }))
    .min(1),
  response_url: z.url({ protocol: /^https?$/ }).optional(),
  channel: z.object({ id: z.string().min(1) }).optional(),
  container: z.object({ channel_id: z.string().optional(), message_ts: z.string().optional() }).optional(),
});
export type BlockActionsPayload = z.infer<typeof blockActionsSchema>;

export type ParsedInteraction =
  | { kind: 'block_actions'; payload: BlockActionsPayload }
  | { kind: 'other'; type: string }
  | { kind: 'invalid'; message: string };

/** Parses the form-encoded body (`payload=<json>`) of an interaction. Call only after verifying it. */
export function parseInteraction(rawBody: Buffer | string): ParsedInteraction {
  const text = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const form = new URLSearchParams(text);
  const raw = form.get('payload');
  if (raw === null) return { kind: 'invalid', message: 'the form has no "payload" field' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    return { kind: 'invalid', message: `"payload" is not valid JSON: ${(err as Error).message}` };
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') return { kind: 'invalid', message: '"payload" has no "type"' };
  if (type !== 'block_actions') return { kind: 'other', type };
  const result = blockActionsSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { kind: 'invalid', message: `"payload" is not a block_actions interaction: ${issues.join('; ')}` };
  }
  return { kind: 'block_actions', payload: result.data };
}

/** Where the ingress can send an ephemeral message when an interaction has no `response_url`. */
export interface SlackNotifier {
  postEphemeral(input: { channel: string; user: string; text: string }): Promise<unknown>;
}

export type DecideFn = (client: Client, workflowId: string, decision: 'approve' | 'reject', input: DecisionInput) => Promise<DecisionRecord>;

export interface SlackInteractionDeps {
  signingSecret: string;
  /** AGENTRUNS_DECISION_KEY: signs each verified click for the worker. Without it no click decides. */
  decisionKey?: string;
  client: Client;
  runbooks: readonly RunbookConfig[];
  logger: Logger;
  metrics: IngressMetrics;
  slack?: SlackNotifier;
  /** The `decide` Update by default (control/incidents.ts); injectable for tests. */
  decide?: DecideFn;
  /** Posts to a response_url; default: fetch with a 5 s timeout. */
  respond?: (responseUrl: string, message: EphemeralResponse) => Promise<void>;
  /** After this long without an answer from the workflow the user is told the decision is pending. */
  decisionNoticeMs?: number;
  /** The whole decision gives up after this long (gRPC deadline). */
  decisionTimeoutMs?: number;
  now?: () => number;
}

export interface EphemeralResponse {
  response_type: 'ephemeral';
  replace_original: false;
  text: string;
}

/** What the HTTP layer answers at once, and the work to run after the answer was sent. */
export interface InteractionReceipt {
  status: number;
  body?: { error: string };
  rejectReason?: SlackRejectReason;
  work?: () => Promise<void>;
}

async function postToResponseUrl(responseUrl: string, message: EphemeralResponse): Promise<void> {
  const res = await fetch(responseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(5_000),
    redirect: 'error',
  });
  if (!res.ok) throw new Error(`response_url answered HTTP ${res.status}`);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function createSlackInteractions(deps: SlackInteractionDeps) {
  const decide = deps.decide ?? decideWithUpdate;
  const respond = deps.respond ?? postToResponseUrl;
  const noticeMs = deps.decisionNoticeMs ?? 2_500;
  const timeoutMs = deps.decisionTimeoutMs ?? 60_000;

  const tell = async (payload: BlockActionsPayload, text: string, log: Logger): Promise<void> => {
    try {
      if (payload.response_url) {
        await respond(payload.response_url, { response_type: 'ephemeral', replace_original: false, text });
        return;
      }
      const channel = payload.channel?.id ?? payload.container?.channel_id;
      if (deps.slack && channel) {
        await deps.slack.postEphemeral({ channel, user: payload.user.id, text });
        return;
      }
      log.warn('no way to answer the Slack user (no response_url, no Slack client)', { text });
    } catch (err) {
      log.error('could not answer the Slack user', { err });
    }
  };

  const handleClick = async (payload: BlockActionsPayload, log: Logger): Promise<void> => {
    const action = payload.actions.find((a) => DECISION_ACTION_IDS.includes(a.action_id));
    if (!action) {
      log.info('Slack interaction without an AgentRuns decision button; ignored', { actions: payload.actions.map((a) => a.action_id) });
      return;
    }
    const user = payload.user.id;
    const parsed = parseDecisionButtonValue(action.value);
    const buttonDecision = action.action_id === APPROVE_ACTION_ID ? 'approve' : 'reject';
    if (!parsed.ok || parsed.value.decision !== buttonDecision) {
      const reason = parsed.ok ? `the button ${action.action_id} carries decision ${parsed.value.decision}` : parsed.reason;
      log.warn('Slack decision button with an invalid value', { user, reason });
      deps.metrics.approvals.inc({ channel: 'slack', decision: buttonDecision, result: 'error' });
      await tell(payload, `:warning: This button is not a valid AgentRuns decision (${reason}). Nothing was sent.`, log);
      return;
    }
    const { workflowId, runId, step, decision, prerequisiteConfirmed } = parsed.value;
    const clickLog = log.child({ workflowId, decision, slackUser: user });
    const runbook = deps.runbooks.find((r) => incidentWorkflowId(r.target) === workflowId);
    if (!runbook) {
      clickLog.warn('Slack decision for an incident of no configured runbook');
      deps.metrics.approvals.inc({ channel: 'slack', decision, result: 'error' });
      await tell(payload, `:warning: \`${workflowId}\` is not an incident of any runbook this service handles. Nothing was sent.`, clickLog);
      return;
    }
    const approver = runbook.approvers.find((a) => a.slackUserId === user);

    if (!approver) {
      // Record the attempt in the incident's audit trail (`refusals`); the signal can only record.
      clickLog.warn('Slack user is not an approver; decision refused', { runbook: runbook.id });
      deps.metrics.approvals.inc({ channel: 'slack', decision, result: 'unauthorised' });
      const recorded = await deps.client.withDeadline(Date.now() + 10_000, () =>
        recordRefusal(deps.client, workflowId, {
          by: `slack:${user}`,
          decision,
          channel: 'slack',
          reason: `Slack user ${user} is not an approver of runbook ${runbook.id}`,
        }),
      );
      if (!recorded) clickLog.error('could not record the refused Slack decision in the incident');
      await tell(
        payload,
        `:no_entry: <@${user}>, you are not an approver of runbook *${runbook.id}*, so your ${decision} was refused` +
          (recorded ? ' and recorded in the incident.' : '.'),
        clickLog,
      );
      return;
    }

    if (!deps.decisionKey) {
      clickLog.error('Slack decision refused: the ingress has no AGENTRUNS_DECISION_KEY to vouch for it');
      deps.metrics.approvals.inc({ channel: 'slack', decision, result: 'error' });
      await tell(payload, ':warning: Slack approvals are not configured on this AgentRuns ingress (AGENTRUNS_DECISION_KEY). Nothing was sent.', clickLog);
      return;
    }
    const issuedAt = new Date((deps.now ?? Date.now)()).toISOString();
    const proven = {
      workflowId,
      runId,
      step,
      decision,
      by: approver.id,
      prerequisiteConfirmed: prerequisiteConfirmed === true,
      emergency: false,
      restartAnyway: false,
      user,
      issuedAt,
    };
    const input: DecisionInput = {
      by: approver.id,
      runId,
      step,
      comment: `clicked in Slack by ${user}`,
      ...(prerequisiteConfirmed ? { prerequisiteConfirmed: true } : {}),
      slack: { user, issuedAt, signature: signDecision(deps.decisionKey, proven) },
    };
    type Result = { kind: 'done'; record: DecisionRecord } | { kind: 'failed'; err: unknown };
    const delivery: Promise<Result> = deps.client
      .withDeadline(Date.now() + timeoutMs, () => decide(deps.client, workflowId, decision, input))
      .then((record): Result => ({ kind: 'done', record }), (err: unknown): Result => ({ kind: 'failed', err }));
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<'slow'>((resolve) => {
      timer = setTimeout(() => resolve('slow'), noticeMs);
      timer.unref();
    });
    const first = await Promise.race([delivery, slow]);
    clearTimeout(timer);
    if (first === 'slow') {
      await tell(payload, `:hourglass: Your ${decision} of \`${workflowId}\` was sent as *${approver.id}*; waiting for the incident to confirm it…`, clickLog);
    }
    const result = first === 'slow' ? await delivery : first;
    if (result.kind === 'done') {
      clickLog.info('Slack decision accepted', { approver: approver.id });
      deps.metrics.approvals.inc({ channel: 'slack', decision, result: 'accepted' });
      const verb = decision === 'approve' ? ':white_check_mark: Approved' : ':no_entry_sign: Rejected';
      await tell(payload, `${verb}: \`${workflowId}\`, recorded as *${result.record.by}* at ${result.record.at}.`, clickLog);
    } else if (result.err instanceof DecisionRefusedError) {
      clickLog.warn('Slack decision refused by the incident', { approver: approver.id, reason: result.err.message });
      deps.metrics.approvals.inc({ channel: 'slack', decision, result: 'refused' });
      await tell(payload, `:no_entry: Your ${decision} was refused: ${result.err.message}`, clickLog);
    } else {
      clickLog.error('Slack decision could not be delivered', { approver: approver.id, err: result.err });
      deps.metrics.approvals.inc({ channel: 'slack', decision, result: 'error' });
      await tell(payload, `:warning: Your ${decision} of \`${workflowId}\` could not be delivered (Temporal did not answer). Please try again.`, clickLog);
    }
  };

  return {
    /**
     * Checks a request whose path, method, content type and size the HTTP layer already checked:
     * signature and window first, then the payload. Never throws.
     */
    receive(rawBody: Buffer, headers: IncomingHttpHeaders, log: Logger = deps.logger): InteractionReceipt {
      const check = verifySlackSignature({
        signingSecret: deps.signingSecret,
        timestamp: header(headers, 'x-slack-request-timestamp'),
        signature: header(headers, 'x-slack-signature'),
        rawBody,
        nowMs: (deps.now ?? Date.now)(),
      });
      if (!check.ok) {
        return { status: 401, body: { error: check.message }, rejectReason: check.reason === 'stale_timestamp' ? 'stale_timestamp' : 'bad_signature' };
      }
      const parsed = parseInteraction(rawBody);
      if (parsed.kind === 'invalid') return { status: 400, body: { error: parsed.message }, rejectReason: 'bad_payload' };
      if (parsed.kind === 'other') {
        log.info('Slack interaction of another type acknowledged and ignored', { type: parsed.type });
        return { status: 200 };
      }
      return { status: 200, work: () => handleClick(parsed.payload, log) };
    },
  };
}

export type SlackInteractions = ReturnType<typeof createSlackInteractions>;
