/**
 * Slack through its Web API (`@slack/web-api`): post the incident's message with its Approve /
 * Reject buttons, update it in place as the incident moves (chat.update: buttons removed once a
 * decision is taken or the incident closed, the outcome shown), and answer one user ephemerally.
 *
 * The message itself is rendered by the pure `renderIncidentMessage` (domain/slack-message.ts).
 * Without a Slack client or a channel every activity is a no-op returning null, so an installation
 * without Slack runs the same workflow. The client is built with its own retries off: Temporal
 * retries the activity under the workflow's policy, and Slack's error codes are mapped to the named
 * failures (bad token / unknown channel / rejected blocks are permanent, rate limits and outages are
 * not). Posting is not idempotent on Slack's side; a retried post after a lost answer can show the
 * message twice — the workflow stores `{channel, ts}` and only ever updates after that.
 */
import {
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebClient,
} from '@slack/web-api';
import type { IncidentState } from '../domain/incident';
import { redact } from '../domain/redact';
import { renderIncidentMessage, type SlackMessageOptions } from '../domain/slack-message';
import { failureFromStatus, namedFailure } from './errors';

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
  if (err instanceof WebAPIRateLimitedError) return namedFailure('UpstreamError', `${what}: rate limited, retry after ${err.retryAfter} s`);
  if (err instanceof WebAPIHTTPError) return failureFromStatus(err.statusCode, what);
  return failureFromStatus(undefined, what, err instanceof Error ? new Error(redact(err.message)) : undefined);
}

function messageRef(method: string, result: { channel?: string; ts?: string }): SlackMessageRef {
  if (!result.channel || !result.ts) throw namedFailure('UpstreamError', `Slack ${method}: answer without channel or ts`);
  return { channel: result.channel, ts: result.ts };
}

export function createSlackActivities(options: SlackActivitiesOptions) {
  const { client } = options;
  const render = (state: IncidentState, temporalUiUrl?: string) => {
    const renderOptions: SlackMessageOptions = { temporalUiUrl: temporalUiUrl ?? options.temporalUiUrl, namespace: options.namespace };
    return renderIncidentMessage(state, renderOptions);
  };

  return {
    /** Posts the incident's message with its decision buttons; null when Slack is not configured. */
    async postIncidentMessage(state: IncidentState, opts: { channel?: string; temporalUiUrl?: string } = {}): Promise<SlackMessageRef | null> {
      const channel = opts.channel ?? options.channel;
      if (!client || !channel) return null;
      const { text, blocks } = render(state, opts.temporalUiUrl);
      try {
        const result = await client.chat.postMessage({
          channel,
          text,
          blocks,
          unfurl_links: false,
          unfurl_media: false,
          metadata: { event_type: 'agentruns_incident', event_payload: { workflowId: state.workflowId, runbookId: state.runbookId } },
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
