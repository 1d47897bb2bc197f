/**
 * What Slack sends the ingress when someone clicks a button, built independently of the ingress'
 * own parser and verifier: the `block_actions` payload, the v0 request signature, and the button
 * value to "click" from a message the simulator recorded.
 */
import { createHmac } from 'node:crypto';
import type { SlackSimMessage } from './state';

export interface BlockActionsOptions {
  userId: string;
  actionId: string;
  value: string;
  responseUrl?: string;
  channelId?: string;
  messageTs?: string;
  username?: string;
}

/** A `block_actions` payload as Slack sends it when a button is clicked (the fields the ingress reads, and a few more). */
export function blockActionsPayload(o: BlockActionsOptions): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: { id: o.userId, username: o.username ?? o.userId.toLowerCase(), name: o.username ?? o.userId.toLowerCase(), team_id: 'T0SIM0001' },
    api_app_id: 'A0SIMAPP01',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: o.messageTs ?? '1700000000.000100', channel_id: o.channelId ?? 'C0TORGHUT1', is_ephemeral: false },
    trigger_id: '1111.2222.3333',
    team: { id: 'T0SIM0001', domain: 'sim' },
    channel: { id: o.channelId ?? 'C0TORGHUT1', name: 'torghut-oncall' },
    ...(o.responseUrl ? { response_url: o.responseUrl } : {}),
    actions: [
      {
        action_id: o.actionId,
        block_id: 'agentruns_decision',
        text: { type: 'plain_text', text: 'button' },
        value: o.value,
        type: 'button',
        action_ts: `${Math.floor(Date.now() / 1000)}.000200`,
      },
    ],
  };
}

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/**
 * An interaction request signed as Slack signs it: form body `payload=<json>`, headers
 * X-Slack-Request-Timestamp and X-Slack-Signature = v0=HMAC_SHA256(secret, "v0:ts:body").
 * Written independently of the ingress' verifier so a shared bug cannot hide.
 */
export function signedInteraction(options: { signingSecret: string; payload: unknown; timestampSeconds?: number }): SignedRequest {
  const body = new URLSearchParams({ payload: JSON.stringify(options.payload) }).toString();
  const timestamp = String(options.timestampSeconds ?? Math.floor(Date.now() / 1000));
  const signature = 'v0=' + createHmac('sha256', options.signingSecret).update(`v0:${timestamp}:${body}`).digest('hex');
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signature,
    },
  };
}

/** The `value` of a button in a recorded message, found by action_id (to "click" what was posted). */
export function buttonValue(message: Pick<SlackSimMessage, 'blocks'>, actionId: string): string | undefined {
  for (const block of message.blocks ?? []) {
    const elements = (block as { elements?: unknown }).elements;
    if (!Array.isArray(elements)) continue;
    for (const el of elements as { action_id?: string; value?: string }[]) {
      if (el.action_id === actionId) return el.value;
    }
  }
  return undefined;
}
