/**
 * The Web API methods the automation calls — chat.postMessage, chat.update, chat.postEphemeral —
 * answered as Slack answers: HTTP 200 with `{ ok: false, error }` for a missing or unknown channel
 * (`channel_not_found`; chat.update wants the channel ID, not a name), an unknown message
 * (`message_not_found`), neither text nor blocks (`no_text`), broken Block Kit (`invalid_blocks`),
 * text over 40 000 characters (`msg_too_long`), an unknown method (`unknown_method`).
 */
import { blockKitProblem, type Fields } from './block-kit';
import type { SlackSimMessage, SlackState } from './state';

/** Form fields carry nested values as JSON strings; JSON bodies carry them as they are. */
function structured(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return Symbol.for('invalid');
  }
}

function contentOf(fields: Fields): { text?: string; blocks?: unknown[] } | { error: string; detail?: string } {
  const text = typeof fields.text === 'string' && fields.text !== '' ? fields.text : undefined;
  let blocks: unknown[] | undefined;
  if (fields.blocks !== undefined && fields.blocks !== '') {
    const parsed = structured(fields.blocks);
    const problem = blockKitProblem(parsed);
    if (problem) return { error: 'invalid_blocks', detail: problem };
    blocks = parsed as unknown[];
  }
  if (!text && !blocks?.length) return { error: 'no_text' };
  if (text && text.length > 40_000) return { error: 'msg_too_long' };
  return { text, blocks };
}

const refused = (content: { error: string; detail?: string }): Fields => ({
  ok: false,
  error: content.error,
  ...(content.detail ? { errors: [content.detail] } : {}),
});

/** One authenticated Web API call: its answer (always HTTP 200). */
export function callWebApi(state: SlackState, method: string, fields: Fields): Fields {
  switch (method) {
    case 'chat.postMessage': {
      const channel = state.resolveChannel(fields.channel, false);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const content = contentOf(fields);
      if ('error' in content) return refused(content);
      const metadata = fields.metadata === undefined ? undefined : structured(fields.metadata);
      if (typeof metadata === 'symbol') return { ok: false, error: 'invalid_metadata_format' };
      const message: SlackSimMessage = { channel, ts: state.nextTs(), ...content, metadata, history: [] };
      state.messages.push(message);
      return { ok: true, channel, ts: message.ts, message: { type: 'message', text: message.text ?? '', blocks: message.blocks, ts: message.ts } };
    }
    case 'chat.update': {
      // chat.update takes the channel ID Slack returned from chat.postMessage, not a name.
      const channel = state.resolveChannel(fields.channel, true);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const message = state.messages.find((m) => m.channel === channel && m.ts === fields.ts);
      if (!message) return { ok: false, error: 'message_not_found' };
      const content = contentOf(fields);
      if ('error' in content) return refused(content);
      message.history.push({ text: message.text, blocks: message.blocks, at: Date.now() });
      message.text = content.text;
      message.blocks = content.blocks;
      return { ok: true, channel, ts: message.ts, text: message.text ?? '' };
    }
    case 'chat.postEphemeral': {
      const channel = state.resolveChannel(fields.channel, false);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      if (typeof fields.user !== 'string' || fields.user === '') return { ok: false, error: 'user_not_found' };
      if (state.users && !state.users.includes(fields.user)) return { ok: false, error: 'user_not_in_channel' };
      const content = contentOf(fields);
      if ('error' in content) return refused(content);
      const messageTs = state.nextTs();
      state.ephemerals.push({ channel, user: fields.user, ...content, messageTs });
      return { ok: true, message_ts: messageTs };
    }
    default:
      return { ok: false, error: 'unknown_method' };
  }
}
