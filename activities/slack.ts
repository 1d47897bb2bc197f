/**
 * Slack through its Web API (`@slack/web-api`): post the incident's message with its Approve /
 * Reject buttons, update it in place as the incident moves (chat.update: buttons removed once a
 * decision is taken or the incident closed, the outcome shown), and answer one user ephemerally.
 *
 * The message itself is rendered by the pure `renderIncidentMessage` (domain/slack-message.ts).
 * Without a Slack client or a channel every activity is a no-op returning null, so an installation
 * without Slack runs the same workflow. The client is built with its own retries off: Temporal
 * retries the activity under the workflow's policy, and Slack's error codes are mapped to the named
 * failures (bad token / unknown channel / rejected blocks are permanent, outages are not; a rate
 * limit is retried after Slack's own Retry-After).
 *
 * Posting is made idempotent here, since Slack's chat.postMessage is not: the message carries the
 * incident's workflow and run IDs in its metadata, and before posting the channel's messages since
 * the incident started are looked up (conversations.history with include_all_metadata; the
 * channel's ID by conversations.list when the runbook names it). A post whose answer was lost is
 * found and returned instead of a second message with live buttons. The lookup needs the
 * `channels:read` and `channels:history` scopes (`groups:*` for a private channel); refused for good
 * (a missing scope, say), the message is posted without it.
 */
import {
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebClient,
} from '@slack/web-api';
import { ApplicationFailure } from '@temporalio/common';
import type { IncidentState } from '../domain/incident';
import { redact } from '../domain/redact';
import { renderIncidentMessage, type SlackMessageOptions } from '../domain/slack-message';
import { failureFromStatus, namedFailure, rateLimitFailure } from './errors';

export interface SlackClientConfig {
  /** Bot token (xoxb-…), from SLACK_BOT_TOKEN. */
  token: string;
  /** Web API base URL, from SLACK_API_URL (default https://slack.com/api/); a simulator in tests. */
  apiUrl?: string;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
}

/** A WebClient for activities: no retries of its own (Temporal retries), rate limits surface as errors. */
export function createSlackClient(config: SlackClientConfig): WebClient {
  return new WebClient(config.token, {
    slackApiUrl: config.apiUrl ?? 'https://slack.com/api/',
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: config.timeoutMs ?? 10_000,
    logLevel: LogLevel.ERROR,
    allowAbsoluteUrls: false,
  });
}

export interface SlackActivitiesOptions {
  /** No client: Slack is not configured and every activity returns null. */
  client?: WebClient;
  /** Default channel (the runbook's `slack.channel` given per call wins). */
  channel?: string;
  /** Base URL of the Temporal Web UI, for the link in the message. */
  temporalUiUrl?: string;
  /** Temporal namespace, for the link; default `default`. */
  namespace?: string;
}

/** Where a posted message lives: the channel ID Slack answered with and the message timestamp. */
export interface SlackMessageRef {
  channel: string;
  ts: string;
}

const NOT_ALLOWED = new Set([
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_in_channel',
  'is_archived',
  'restricted_action',
  'cant_update_message',
  'edit_window_closed',
  'ekm_access_denied',
]);
const NOT_FOUND = new Set(['channel_not_found', 'message_not_found', 'user_not_found', 'user_not_in_channel']);
const INPUT = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_arguments',
  'invalid_arg_name',
  'no_text',
  'msg_too_long',
  'invalid_metadata_format',
  'invalid_metadata_schema',
]);

/** Maps a @slack/web-api error to a named activity failure. */
export function slackFailure(method: string, err: unknown): Error {
  const what = `Slack ${method}`;
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    if (NOT_ALLOWED.has(code)) return namedFailure('NotAllowedError', `${what}: ${code} (check SLACK_BOT_TOKEN, its scopes and the channel membership)`);
    if (NOT_FOUND.has(code)) return namedFailure('NotFoundError', `${what}: ${code}`);
    if (INPUT.has(code)) return namedFailure('InputError', `${what}: ${code}`);
    return namedFailure('UpstreamError', `${what}: ${code}`);
  }
  if (err instanceof WebAPIRateLimitedError) return rateLimitFailure(what, 429, err.retryAfter);
  if (err instanceof WebAPIHTTPError) return failureFromStatus(err.statusCode, what);
  return failureFromStatus(undefined, what, err instanceof Error ? new Error(redact(err.message)) : undefined);
}

function messageRef(method: string, result: { channel?: string; ts?: string }): SlackMessageRef {
  if (!result.channel || !result.ts) throw namedFailure('UpstreamError', `Slack ${method}: answer without channel or ts`);
  return { channel: result.channel, ts: result.ts };
}

/** The metadata event that marks an incident's message. */
const INCIDENT_EVENT = 'agentruns_incident';

/** The metadata event that marks one of an incident's replies in its thread (`key` tells which). */
const REPLY_EVENT = 'agentruns_incident_reply';

/**
 * Replies once in an incident's thread: the reply carries `{workflowId, runId, key}` in its metadata,
 * and an earlier attempt's reply (whose answer was lost) is found by it in `conversations.replies`
 * and returned instead of a second copy.
 */
export async function replyInThread(
  slack: WebClient,
  thread: SlackMessageRef,
  reply: { workflowId: string; runId: string; key: string; text: string; eventType?: string },
): Promise<SlackMessageRef> {
  const eventType = reply.eventType ?? REPLY_EVENT;
  const matches = (payload: Record<string, unknown> | undefined) =>
    payload?.runId === reply.runId && payload.workflowId === reply.workflowId && (payload.key ?? 'report') === reply.key;
  let earlier: { ts?: string } | undefined;
  try {
    const replies = await slack.conversations.replies({ channel: thread.channel, ts: thread.ts, include_all_metadata: true, limit: 200 });
    earlier = (replies.messages ?? []).find(
      (m) => m.ts !== thread.ts && m.metadata?.event_type === eventType && matches(m.metadata.event_payload as Record<string, unknown> | undefined),
    );
  } catch (err) {
    throw slackFailure('conversations.replies', err);
  }
  if (earlier?.ts) return { channel: thread.channel, ts: earlier.ts };
  try {
    const posted = await slack.chat.postMessage({
      channel: thread.channel,
      thread_ts: thread.ts,
      text: reply.text,
      unfurl_links: false,
      unfurl_media: false,
      metadata: { event_type: eventType, event_payload: { workflowId: reply.workflowId, runId: reply.runId, key: reply.key } },
    });
    return messageRef('chat.postMessage', posted);
  } catch (err) {
    throw slackFailure('chat.postMessage', err);
  }
}

/** Slack channel IDs (public C…, private G…, direct D…): used as they are, never looked up. */
const CHANNEL_ID = /^[CGD][A-Z0-9]{6,}$/;

export function createSlackActivities(options: SlackActivitiesOptions) {
  const { client } = options;
  const render = (state: IncidentState, temporalUiUrl?: string) => {
    const renderOptions: SlackMessageOptions = { temporalUiUrl: temporalUiUrl ?? options.temporalUiUrl, namespace: options.namespace };
    return renderIncidentMessage(state, renderOptions);
  };
  /** Channel name → ID, as conversations.list answered (IDs do not change). */
  const channelIds = new Map<string, string>();

  const channelId = async (slack: WebClient, channel: string): Promise<string | null> => {
    if (CHANNEL_ID.test(channel)) return channel;
    const name = channel.replace(/^#/, '');
    let cursor: string | undefined;
    for (let page = 0; !channelIds.has(name) && page < 20; page++) {
      const result = await slack.conversations.list({ types: 'public_channel,private_channel', exclude_archived: true, limit: 200, ...(cursor ? { cursor } : {}) });
      for (const c of result.channels ?? []) if (c.name && c.id) channelIds.set(c.name, c.id);
      cursor = result.response_metadata?.next_cursor || undefined;
      if (!cursor) break;
    }
    return channelIds.get(name) ?? null;
  };

  /** This incident's message in the channel, posted by an earlier attempt whose answer was lost. */
  const alreadyPosted = async (slack: WebClient, channel: string, state: IncidentState): Promise<SlackMessageRef | null> => {
    const id = await channelId(slack, channel);
    if (!id) return null;
    const since = Date.parse(state.startedAt);
    const oldest = Number.isNaN(since) ? undefined : String(Math.floor(since / 1000) - 60);
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await slack.conversations.history({ channel: id, include_all_metadata: true, limit: 200, ...(oldest ? { oldest } : {}), ...(cursor ? { cursor } : {}) });
      const found = (result.messages ?? []).find((m) => {
        const payload = m.metadata?.event_type === INCIDENT_EVENT ? (m.metadata.event_payload as Record<string, unknown> | undefined) : undefined;
        return payload?.workflowId === state.workflowId && payload.runId === state.runId;
      });
      if (found?.ts) return { channel: id, ts: found.ts };
      cursor = result.response_metadata?.next_cursor || undefined;
      if (!cursor) break;
    }
    return null;
  };

  return {
    /**
     * Posts the incident's message with its decision buttons — unless an earlier attempt already
     * posted it (found by its metadata) — and returns where it is; null when Slack is not configured.
     */
    async postIncidentMessage(state: IncidentState, opts: { channel?: string; temporalUiUrl?: string } = {}): Promise<SlackMessageRef | null> {
      const channel = opts.channel ?? options.channel;
      if (!client || !channel) return null;
      try {
        const posted = await alreadyPosted(client, channel, state);
        if (posted) return posted;
      } catch (err) {
        // A lookup refused for good (no scope, not a member, no such channel): post, and let the post
        // give Slack's answer — a message possibly twice is better than none. Transient: retry.
        const failure = slackFailure('conversations.history', err);
        if (!(failure instanceof ApplicationFailure && failure.nonRetryable)) throw failure;
      }
      const { text, blocks } = render(state, opts.temporalUiUrl);
      try {
        const result = await client.chat.postMessage({
          channel,
          text,
          blocks,
          unfurl_links: false,
          unfurl_media: false,
          metadata: { event_type: INCIDENT_EVENT, event_payload: { workflowId: state.workflowId, runId: state.runId, runbookId: state.runbookId } },
        });
        return messageRef('chat.postMessage', result);
      } catch (err) {
        throw slackFailure('chat.postMessage', err);
      }
    },

    /** Re-renders the message in place (chat.update) from the current state; null when not configured. */
    async updateIncidentMessage(input: { channel: string; ts: string; state: IncidentState; temporalUiUrl?: string }): Promise<SlackMessageRef | null> {
      if (!client) return null;
      const { text, blocks } = render(input.state, input.temporalUiUrl);
      try {
        const result = await client.chat.update({ channel: input.channel, ts: input.ts, text, blocks });
        return messageRef('chat.update', result);
      } catch (err) {
        throw slackFailure('chat.update', err);
      }
    },

    /**
     * One short reply in the incident's thread, once per `key` and run (found again by its metadata
     * on a retry); null when Slack is not configured.
     */
    async postThreadReply(input: { thread: SlackMessageRef; workflowId: string; runId: string; key: string; text: string }): Promise<SlackMessageRef | null> {
      if (!client) return null;
      return replyInThread(client, input.thread, { ...input, text: redact(input.text) });
    },

    /** A message only `user` sees in `channel` (chat.postEphemeral); null when not configured. */
    async postEphemeral(input: { channel?: string; user: string; text: string }): Promise<{ channel: string; messageTs: string } | null> {
      const channel = input.channel ?? options.channel;
      if (!client || !channel) return null;
      try {
        const result = await client.chat.postEphemeral({ channel, user: input.user, text: redact(input.text) });
        return { channel, messageTs: result.message_ts ?? '' };
      } catch (err) {
        throw slackFailure('chat.postEphemeral', err);
      }
    },
  };
}

export type SlackActivities = ReturnType<typeof createSlackActivities>;
