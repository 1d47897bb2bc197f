/**
 * The simulated Slack's HTTP side: `/api/<method>` for the Web API (form-encoded bodies as
 * @slack/web-api sends them, or JSON with the token in the header; `not_authed` without a token,
 * `invalid_auth` with a wrong one) and `/response/<id>` for the response_urls the ingress answers
 * button clicks through. Every request is logged (method, path, query; never headers). Faults
 * (./faults.ts, `failNext`) act on Web API calls once the token was checked.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { FaultQueue } from '../fault-queue';
import { closeServer, dropConnection, listen, readBody, sendJson, sleep, type LoggedRequest } from '../http-util';
import type { Fields } from './block-kit';
import { slackFaultAnswer, type SlackFault } from './faults';
import { createSlackState, type SlackSimEphemeral, type SlackSimMessage, type SlackSimResponse } from './state';
import { callWebApi } from './web-api';

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
  /** The next matching Web API calls fail as Slack fails them, or misbehave on the wire. */
  failNext(fault: SlackFault): void;
  /** Top-level messages whose metadata names the incident (workflow ID, and run ID when given); thread replies are not counted. */
  incidentMessages(workflowId: string, runId?: string): SlackSimMessage[];
  /** The replies in threads whose metadata names the incident's run, oldest first, with their `key` (the report's: `report`). */
  incidentReplies(workflowId: string, runId: string): Array<SlackSimMessage & { key: string }>;
  /** Waits until `predicate` holds (polling), or fails after `timeoutMs`. */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
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

export async function startSlackSim(options: SlackSimOptions): Promise<SlackSim> {
  const state = createSlackState(options.channels ?? { 'torghut-oncall': 'C0TORGHUT1' }, options.users);
  const requests: LoggedRequest[] = [];
  const faults = new FaultQueue<SlackFault>();

  const authorised = (req: IncomingMessage, fields: Fields): 'ok' | 'not_authed' | 'invalid_auth' => {
    const header = req.headers.authorization;
    const presented = header ? /^Bearer\s+(\S+)$/.exec(header)?.[1] : typeof fields.token === 'string' ? fields.token : undefined;
    if (!presented) return 'not_authed';
    return presented === options.token ? 'ok' : 'invalid_auth';
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://slack.invalid');
    requests.push({ method: req.method ?? '', path: url.pathname, query: url.search, at: Date.now() });
    const body = await readBody(req);

    const hook = /^\/response\/([A-Za-z0-9]+)$/.exec(url.pathname);
    if (hook) {
      const id = hook[1]!;
      if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: 'method_not_allowed' });
      if (!state.responseIds.has(id)) return sendJson(res, 404, { ok: false, error: 'no_such_response_url' });
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJson(res, 400, { ok: false, error: 'invalid_payload' });
      }
      state.responses.push({ id, body: parsed, at: Date.now() });
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
    const fault = faults.take('POST', url.pathname);
    if (fault?.hang) return;
    if (fault?.delayMs) await sleep(fault.delayMs);
    const injected = fault ? slackFaultAnswer(fault) : null;
    if (injected) {
      const text = JSON.stringify(injected.body);
      res.writeHead(injected.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...injected.headers });
      return res.end(text);
    }
    const answer = callWebApi(state, method, fields);
    if (fault?.dropAfterWrite) return dropConnection(res);
    sendJson(res, 200, answer);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendJson(res, 500, { ok: false, error: 'internal_error', detail: String(err) }));
  });
  const url = await listen(server);
  const ids = new Set(Object.values(state.channels));

  return {
    url,
    apiUrl: `${url}/api/`,
    requests,
    messages: state.messages,
    ephemerals: state.ephemerals,
    responses: state.responses,
    newResponseUrl() {
      const id = createHash('sha256').update(`${Date.now()}-${Math.random()}`).digest('hex').slice(0, 24);
      state.responseIds.add(id);
      return `${url}/response/${id}`;
    },
    channelId: (name) => state.channels[name.replace(/^#/, '')] ?? (ids.has(name) ? name : undefined),
    failNext: (fault) => faults.add(fault),
    incidentMessages: (workflowId, runId) =>
      state.messages.filter((m) => {
        if (m.threadTs) return false;
        const payload = (m.metadata as { event_payload?: { workflowId?: unknown; runId?: unknown } } | undefined)?.event_payload;
        return payload?.workflowId === workflowId && (runId === undefined || payload.runId === runId);
      }),
    incidentReplies: (workflowId, runId) =>
      state.messages.flatMap((m) => {
        const payload = (m.metadata as { event_payload?: { workflowId?: unknown; runId?: unknown; key?: unknown } } | undefined)?.event_payload;
        if (!m.threadTs || payload?.workflowId !== workflowId || payload.runId !== runId) return [];
        return [{ ...m, key: typeof payload.key === 'string' ? payload.key : 'report' }];
      }),
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
