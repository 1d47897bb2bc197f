/**
 * The Web API methods the automation calls — chat.postMessage, chat.update, chat.postEphemeral,
 * conversations.list (a channel's ID by name), conversations.history (the channel's messages,
 * newest first, with their metadata under `include_all_metadata`; cursor pages; thread replies are
 * not in it) and conversations.replies (a thread: its parent, then the replies posted with
 * `thread_ts`, oldest first; `thread_not_found` for an unknown parent) — answered as Slack
 * answers: HTTP 200 with `{ ok: false, error }` for a missing or unknown channel
 * (`channel_not_found`; chat.update and conversations.history want the channel ID, not a name), an unknown message
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

/** One page of a list: `limit` items (default, max) from the `cursor` on; `next` is '' on the last page. */
function page<T>(all: T[], fields: Fields, byDefault: number, max: number): { items: T[]; next: string } {
  const limit = Math.min(Math.max(Number(fields.limit ?? byDefault) || byDefault, 1), max);
  const cursor = typeof fields.cursor === 'string' && fields.cursor !== '' ? Number(Buffer.from(fields.cursor, 'base64').toString('utf8').replace(/^next_ts:/, '')) : 0;
  const start = Number.isInteger(cursor) && cursor > 0 ? cursor : 0;
  const end = start + limit;
  return { items: all.slice(start, end), next: end < all.length ? Buffer.from(`next_ts:${end}`).toString('base64') : '' };
}

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
      const threadTs = typeof fields.thread_ts === 'string' && fields.thread_ts !== '' ? fields.thread_ts : undefined;
      const message: SlackSimMessage = { channel, ts: state.nextTs(), ...content, metadata, ...(threadTs ? { threadTs } : {}), history: [] };
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
    case 'conversations.list': {
      const all = Object.entries(state.channels).map(([name, id]) => ({ id, name, is_channel: true, is_private: false, is_archived: false, is_member: true }));
      const { items, next } = page(all, fields, 100, 1000);
      return { ok: true, channels: items, response_metadata: { next_cursor: next } };
    }
    case 'conversations.history': {
      const channel = state.resolveChannel(fields.channel, true);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const oldest = Number(fields.oldest ?? 0) || 0;
      const latest = Number(fields.latest ?? 0) || Number.POSITIVE_INFINITY;
      const withMetadata = fields.include_all_metadata === true || fields.include_all_metadata === 'true';
      const inChannel = state.messages
        .filter((m) => m.channel === channel && !m.threadTs && Number(m.ts) > oldest && Number(m.ts) < latest)
        .sort((a, b) => Number(b.ts) - Number(a.ts))
        .map((m) => ({
          type: 'message',
          user: 'U0AGENTRUNS',
          ts: m.ts,
          text: m.text ?? '',
          ...(m.blocks ? { blocks: m.blocks } : {}),
          ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
        }));
      const { items, next } = page(inChannel, fields, 100, 999);
      return { ok: true, messages: items, has_more: next !== '', pin_count: 0, response_metadata: { next_cursor: next } };
    }
    case 'conversations.replies': {
      const channel = state.resolveChannel(fields.channel, true);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const parent = state.messages.find((m) => m.channel === channel && m.ts === fields.ts && !m.threadTs);
      if (!parent) return { ok: false, error: 'thread_not_found' };
      const withMetadata = fields.include_all_metadata === true || fields.include_all_metadata === 'true';
      const thread = [parent, ...state.messages.filter((m) => m.channel === channel && m.threadTs === parent.ts)].map((m) => ({
        type: 'message',
        user: 'U0AGENTRUNS',
        ts: m.ts,
        thread_ts: parent.ts,
        text: m.text ?? '',
        ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
      }));
      const { items, next } = page(thread, fields, 1000, 1000);
      return { ok: true, messages: items, has_more: next !== '', response_metadata: { next_cursor: next } };
    }
    default:
      return { ok: false, error: 'unknown_method' };
  }
}
