/**
 * Simulated Slack: the Web API methods the automation calls (chat.postMessage, chat.update,
 * chat.postEphemeral) and the `response_url` hooks the ingress answers button clicks through, plus
 * builders of correctly signed interaction requests for tests and the demo.
 *
 * It answers the way Slack does — HTTP 200 with `{ ok: false, error }` — and rejects what Slack
 * rejects: no token (`not_authed`), a wrong token (`invalid_auth`), a missing or unknown channel
 * (`channel_not_found`; chat.update wants the channel ID, not a name), an unknown message
 * (`message_not_found`), neither text nor blocks (`no_text`), and blocks that break Block Kit's
 * limits (`invalid_blocks`: header over 150, section over 3000, button text over 75, value over 2000
 * characters, duplicate action_id, more than 50 blocks). Form-encoded bodies (what @slack/web-api
 * sends, nested values as JSON strings) and JSON bodies (token in the header) are both accepted.
 * Every message is recorded with the history of its updates.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listen, readBody, sendJson, type LoggedRequest } from './http-util';

export interface SlackSimMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  metadata?: unknown;
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

export interface SlackSimOptions {
  /** The bot token every call must carry (xoxb-…). */
  token: string;
  /** Channels by name (without #) → ID; default { 'torghut-oncall': 'C0TORGHUT1' }. */
  channels?: Record<string, string>;
  /** Members who may receive ephemeral messages; default: anyone. */
  users?: string[];
}

export interface SlackSim {
  /** Base URL of the simulator. */
  url: string;
  /** What SLACK_API_URL / WebClient `slackApiUrl` should be. */
  apiUrl: string;
  requests: LoggedRequest[];
  messages: SlackSimMessage[];
  ephemerals: SlackSimEphemeral[];
  responses: SlackSimResponse[];
  /** A fresh response_url whose posts are recorded in `responses`. */
  newResponseUrl(): string;
  /** The ID the simulator gives a channel name (with or without #). */
  channelId(name: string): string | undefined;
  /** Waits until `predicate` holds (polling), or fails after `timeoutMs`. */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

type Fields = Record<string, unknown>;

/** Slack Block Kit limits the simulator enforces; the first problem found, or null. */
export function blockKitProblem(blocks: unknown): string | null {
  if (!Array.isArray(blocks)) return 'blocks must be an array';
  if (blocks.length > 50) return 'no more than 50 blocks';
  const actionIds = new Set<string>();
  const textOf = (t: unknown, where: string, max: number, plainOnly = false): string | null => {
    if (!t || typeof t !== 'object') return `${where}: text object required`;
    const { type, text } = t as { type?: unknown; text?: unknown };
    if (type !== 'plain_text' && (plainOnly || type !== 'mrkdwn')) return `${where}: text type must be ${plainOnly ? 'plain_text' : 'plain_text or mrkdwn'}`;
    if (typeof text !== 'string' || text.length === 0) return `${where}: text must be a non-empty string`;
    if (text.length > max) return `${where}: must be less than ${max + 1} characters`;
    return null;
  };
  for (const [i, block] of blocks.entries()) {
    const where = `[${i}]`;
    if (!block || typeof block !== 'object') return `${where}: block must be an object`;
    const b = block as Fields;
    switch (b.type) {
      case 'header': {
        const p = textOf(b.text, `${where}.text`, 150, true);
        if (p) return p;
        break;
      }
      case 'section': {
        if (b.text === undefined && b.fields === undefined) return `${where}: section needs text or fields`;
        if (b.text !== undefined) {
          const p = textOf(b.text, `${where}.text`, 3000);
          if (p) return p;
        }
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length > 10) return `${where}.fields: 1 to 10 text objects`;
          for (const [j, f] of b.fields.entries()) {
            const p = textOf(f, `${where}.fields[${j}]`, 2000);
            if (p) return p;
          }
        }
        break;
      }
      case 'context': {
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) return `${where}.elements: 1 to 10 elements`;
        for (const [j, e] of b.elements.entries()) {
          const p = textOf(e, `${where}.elements[${j}]`, 3000);
          if (p) return p;
        }
        break;
      }
      case 'actions': {
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25) return `${where}.elements: 1 to 25 elements`;
        for (const [j, e] of b.elements.entries()) {
          const el = (e ?? {}) as Fields;
          const at = `${where}.elements[${j}]`;
          if (el.type !== 'button') return `${at}: only buttons are simulated`;
          const p = textOf(el.text, `${at}.text`, 75, true);
          if (p) return p;
          if (typeof el.action_id !== 'string' || el.action_id.length === 0 || el.action_id.length > 255) return `${at}.action_id: 1 to 255 characters`;
          if (actionIds.has(el.action_id)) return `${at}.action_id: duplicate action_id ${el.action_id}`;
          actionIds.add(el.action_id);
          if (el.value !== undefined && (typeof el.value !== 'string' || el.value.length > 2000)) return `${at}.value: at most 2000 characters`;
          if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') return `${at}.style: primary or danger`;
          if (el.confirm !== undefined) {
            const c = el.confirm as Fields;
            const problem =
              textOf(c.title, `${at}.confirm.title`, 100, true) ??
              textOf(c.text, `${at}.confirm.text`, 300) ??
              textOf(c.confirm, `${at}.confirm.confirm`, 30, true) ??
              textOf(c.deny, `${at}.confirm.deny`, 30, true);
            if (problem) return problem;
          }
        }
        break;
      }
      case 'divider':
        break;
      default:
        return `${where}: unsupported block type ${JSON.stringify(b.type)}`;
    }
  }
  return null;
}

function readFields(req: IncomingMessage, body: Buffer): Fields | null {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  const text = body.toString('utf8');
  if (type === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(text);
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Fields) : null;
    } catch {
      return null;
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    const out: Fields = {};
    for (const [k, v] of new URLSearchParams(text)) out[k] = v;
    return out;
  }
  return null;
}

/** Form fields carry nested values as JSON strings; JSON bodies carry them as they are. */
function structured(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return Symbol.for('invalid');
  }
}

export async function startSlackSim(options: SlackSimOptions): Promise<SlackSim> {
  const channels = options.channels ?? { 'torghut-oncall': 'C0TORGHUT1' };
  const ids = new Set(Object.values(channels));
  const requests: LoggedRequest[] = [];
  const messages: SlackSimMessage[] = [];
  const ephemerals: SlackSimEphemeral[] = [];
  const responses: SlackSimResponse[] = [];
  const responseIds = new Set<string>();
  let seq = 0;
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`;

  const resolveChannel = (raw: unknown, idOnly: boolean): string | undefined => {
    if (typeof raw !== 'string' || raw === '') return undefined;
    if (ids.has(raw)) return raw;
    if (idOnly) return undefined;
    return channels[raw.replace(/^#/, '')];
  };

  const authorised = (req: IncomingMessage, fields: Fields): 'ok' | 'not_authed' | 'invalid_auth' => {
    const header = req.headers.authorization;
    const presented = header ? /^Bearer\s+(\S+)$/.exec(header)?.[1] : typeof fields.token === 'string' ? fields.token : undefined;
    if (!presented) return 'not_authed';
    return presented === options.token ? 'ok' : 'invalid_auth';
  };

  const contentOf = (fields: Fields): { text?: string; blocks?: unknown[] } | { error: string; detail?: string } => {
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
  };

  const api = (method: string, fields: Fields): Fields => {
    switch (method) {
      case 'chat.postMessage': {
        const channel = resolveChannel(fields.channel, false);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const content = contentOf(fields);
        if ('error' in content) return { ok: false, error: content.error, ...(content.detail ? { errors: [content.detail] } : {}) };
        const metadata = fields.metadata === undefined ? undefined : structured(fields.metadata);
        if (typeof metadata === 'symbol') return { ok: false, error: 'invalid_metadata_format' };
        const message: SlackSimMessage = { channel, ts: nextTs(), ...content, metadata, history: [] };
        messages.push(message);
        return { ok: true, channel, ts: message.ts, message: { type: 'message', text: message.text ?? '', blocks: message.blocks, ts: message.ts } };
      }
      case 'chat.update': {
        // chat.update takes the channel ID Slack returned from chat.postMessage, not a name.
        const channel = resolveChannel(fields.channel, true);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const message = messages.find((m) => m.channel === channel && m.ts === fields.ts);
        if (!message) return { ok: false, error: 'message_not_found' };
        const content = contentOf(fields);
        if ('error' in content) return { ok: false, error: content.error, ...(content.detail ? { errors: [content.detail] } : {}) };
        message.history.push({ text: message.text, blocks: message.blocks, at: Date.now() });
        message.text = content.text;
        message.blocks = content.blocks;
        return { ok: true, channel, ts: message.ts, text: message.text ?? '' };
      }
      case 'chat.postEphemeral': {
        const channel = resolveChannel(fields.channel, false);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (typeof fields.user !== 'string' || fields.user === '') return { ok: false, error: 'user_not_found' };
        if (options.users && !options.users.includes(fields.user)) return { ok: false, error: 'user_not_in_channel' };
        const content = contentOf(fields);
        if ('error' in content) return { ok: false, error: content.error, ...(content.detail ? { errors: [content.detail] } : {}) };
        const messageTs = nextTs();
        ephemerals.push({ channel, user: fields.user, ...content, messageTs });
        return { ok: true, message_ts: messageTs };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://slack.invalid');
    requests.push({ method: req.method ?? '', path: url.pathname, query: url.search, at: Date.now() });
    const body = await readBody(req);

    const hook = /^\/response\/([A-Za-z0-9]+)$/.exec(url.pathname);
    if (hook) {
      const id = hook[1]!;
      if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: 'method_not_allowed' });
      if (!responseIds.has(id)) return sendJson(res, 404, { ok: false, error: 'no_such_response_url' });
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJson(res, 400, { ok: false, error: 'invalid_payload' });
      }
      responses.push({ id, body: parsed, at: Date.now() });
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('ok');
    }

    const method = /^\/api\/([A-Za-z.]+)$/.exec(url.pathname)?.[1];
    if (!method) return sendJson(res, 404, { ok: false, error: 'unknown_method' });
    if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: 'method_not_allowed' });
    const fields = readFields(req, body);
    if (!fields) return sendJson(res, 200, { ok: false, error: 'invalid_form_data' });
    const auth = authorised(req, fields);
    if (auth !== 'ok') return sendJson(res, 200, { ok: false, error: auth });
    sendJson(res, 200, api(method, fields));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendJson(res, 500, { ok: false, error: 'internal_error', detail: String(err) }));
  });
  const url = await listen(server);

  return {
    url,
    apiUrl: `${url}/api/`,
    requests,
    messages,
    ephemerals,
    responses,
    newResponseUrl() {
      const id = createHash('sha256').update(`${Date.now()}-${Math.random()}`).digest('hex').slice(0, 24);
      responseIds.add(id);
      return `${url}/response/${id}`;
    },
    channelId: (name) => channels[name.replace(/^#/, '')] ?? (ids.has(name) ? name : undefined),
    async waitFor(predicate, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = predicate();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`Slack simulator: condition not met within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => closeServer(server),
  };
}

// ---- interactions (Slack → the ingress) ---------------------------------------------------------

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
