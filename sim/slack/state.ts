/**
 * What the simulated Slack remembers: the channels it knows, every message posted (with the history
 * of its updates), ephemeral messages, the response_urls it handed out and what was posted to them.
 */

export interface SlackSimMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  metadata?: unknown;
  /** The parent's ts, for a reply in a thread (chat.postMessage with `thread_ts`). */
  threadTs?: string;
  /** Earlier versions of the message, oldest first (one per chat.update). */
  history: { text?: string; blocks?: unknown[]; at: number }[];
}

export interface SlackSimEphemeral {
  channel: string;
  user: string;
  text?: string;
  blocks?: unknown[];
  messageTs: string;
}

export interface SlackSimResponse {
  /** The id of the response_url it was posted to. */
  id: string;
  body: unknown;
  at: number;
}

export interface SlackState {
  /** Channel name (without #) → ID. */
  channels: Record<string, string>;
  /** Members who may receive ephemeral messages; undefined: anyone. */
  users?: string[];
  messages: SlackSimMessage[];
  ephemerals: SlackSimEphemeral[];
  responses: SlackSimResponse[];
  responseIds: Set<string>;
  /** A new message timestamp (seconds.sequence, unique). */
  nextTs(): string;
  /** The channel ID for an ID (or, unless `idOnly`, a name with or without #). */
  resolveChannel(raw: unknown, idOnly: boolean): string | undefined;
}

export function createSlackState(channels: Record<string, string>, users?: string[]): SlackState {
  const ids = new Set(Object.values(channels));
  let seq = 0;
  return {
    channels,
    users,
    messages: [],
    ephemerals: [],
    responses: [],
    responseIds: new Set(),
    nextTs: () => `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`,
    resolveChannel(raw, idOnly) {
      if (typeof raw !== 'string' || raw === '') return undefined;
      if (ids.has(raw)) return raw;
      if (idOnly) return undefined;
      return channels[raw.replace(/^#/, '')];
    },
  };
}
