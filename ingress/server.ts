/**
 * The HTTP ingress: Alertmanager webhook → incident workflows, Slack buttons → decisions, and the
 * service's own /healthz, /readyz and /metrics.
 *
 * Why node:http and not a framework: five fixed routes, and the checks must run in one fixed order
 * — path, method, content type, auth, size (stop reading early), JSON, schema — with the token
 * checked before a single body byte is read and the Slack signature computed over the raw bytes
 * before any parsing. In a framework that order is spread over its lifecycle (fastify: a wrong
 * method is a 404 unless every route adds a 405 handler, auth goes in an onRequest hook, 415 and
 * 413 come from its content-type parsers and bodyLimit, the raw body for Slack needs a custom
 * parser), which is more code to read than this one dispatch function, and node:http adds no
 * dependency to audit. Graceful shutdown is `server.close()` plus waiting for in-flight requests
 * and for the Slack work acknowledged but not yet finished.
 *
 * Answers: every 4xx is JSON `{ error }` and starts nothing — only for a request that is not an
 * Alertmanager webhook at all (path, method, type, token, size, JSON, envelope). Inside a valid
 * envelope each alert stands alone: a bad one is listed in the 202 (`invalid`) and counted, the
 * others are recorded, because Alertmanager never retries a 4xx and would lose the whole group.
 * 202 lists per target the incident started or attached to (one Temporal open/attach per target
 * however many of its alerts the group holds), the alerts ignored (with a reason), the resolutions
 * and the invalid alerts. 503 when Temporal is unreachable, within the 1.5 s budget of the Temporal
 * calls, so Alertmanager retries (re-sent firing alerts attach to the open incident:
 * signal-with-start, one incident per target). Never a 5xx for bad input.
 *
 * Graceful shutdown also waits for the Temporal calls of requests already answered 503: the SDK
 * keeps retrying them until their deadline, and a retry on a closed connection throws.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isGrpcDeadlineError, isGrpcServiceError, type Client } from '@temporalio/client';
import { openIncident, resolveIncidentAlert, type IncidentClientOptions, type OpenedIncident } from '../control/incidents';
import { incidentWorkflowId, type AlertInfo } from '../domain/incident';
import type { RunbookConfig } from '../domain/runbook-config';
import type { Settings } from '../runtime/settings';
import { MAX_ALERTS_READ, parseAlertmanagerPayload, toAlertInfo, type InvalidAlert, type ReadAlert } from './alertmanager';
import type { Logger } from './logger';
import type { AlertRejectReason, IngressMetrics, SlackRejectReason } from './metrics';
import { groupByTarget, type TargetGroup } from './routing';
import { TargetCoalescer } from './coalesce';
import { createSlackInteractions, type DecideFn, type SlackNotifier } from './slack-interactions';

export type IngressSettings = Pick<Settings, 'ALERTMANAGER_TOKEN' | 'SLACK_SIGNING_SECRET' | 'INGRESS_BODY_LIMIT_BYTES'> &
  Partial<Pick<Settings, 'AGENTRUNS_DECISION_KEY'>> &
  Partial<Pick<Settings, 'INGRESS_PORT' | 'INGRESS_HOST'>>;

export interface IngressDeps {
  client: Client;
  taskQueue: string;
  runbooks: RunbookConfig[];
  settings: IngressSettings;
  slack?: SlackNotifier;
  logger: Logger;
  metrics: IngressMetrics;
  /**
   * Budget of the Temporal calls of one webhook request, from the moment its body is read; default
   * 1.5 s, so an unreachable Temporal is a 503 within 2 s (Alertmanager's notify timeout may be 10 s
   * for a whole group, retries included).
   */
  temporalTimeoutMs?: number;
  /** Deadline of the /readyz probe of Temporal; default 2 s. */
  readinessTimeoutMs?: number;
  /** How long `stop()` waits for in-flight work before cutting connections; default 10 s. */
  shutdownGraceMs?: number;
  /** The Slack path's decision function (default: the `decide` Update); injectable for tests. */
  decide?: DecideFn;
  /** Clock for the Slack replay window; injectable for tests. */
  now?: () => number;
}

export interface Ingress {
  server: Server;
  /** Listens (default INGRESS_HOST:INGRESS_PORT); resolves to the base URL. */
  start(options?: { port?: number; host?: string }): Promise<string>;
  /** Stops accepting, finishes in-flight requests and acknowledged Slack work, then closes. */
  stop(): Promise<void>;
  /**
   * Resolves when the Slack work acknowledged so far has finished, and the Temporal calls of
   * requests already answered 503 have stopped retrying (tests, shutdown: close the connection
   * only after this, or a pending SDK retry throws on the closed channel).
   */
  settled(): Promise<void>;
}

/** An answer of the ingress: status, JSON body, extra headers, and a metric reason for errors. */
interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  reason?: AlertRejectReason | SlackRejectReason;
  /** What the request's one log line adds besides its status (e.g. the incidents it reached). */
  logged?: Record<string, unknown>;
}

const ROUTES = {
  '/alertmanager': ['POST'],
  '/slack/interactions': ['POST'],
  '/healthz': ['GET', 'HEAD'],
  '/readyz': ['GET', 'HEAD'],
  '/metrics': ['GET', 'HEAD'],
} as const satisfies Record<string, readonly string[]>;
type Route = keyof typeof ROUTES;

const fail = (status: number, error: string, reason: Answer['reason'], headers?: Record<string, string>): Answer => ({
  status,
  body: { error },
  reason,
  headers,
});

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Constant-time comparison of a presented token with the configured one (equal-length digests). */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** gRPC UNAVAILABLE (14) and DEADLINE_EXCEEDED (4): the server could not be reached in time. */
const GRPC_UNREACHABLE_CODES = new Set([14, 4]);

/** The Temporal calls of one webhook request did not finish within their budget. */
export class TemporalBudgetError extends Error {
  constructor(what: string) {
    super(`Temporal did not answer in time: ${what}`);
    this.name = 'TemporalBudgetError';
  }
}

/** True when a Temporal call failed because the server could not be reached in time. */
export function isTemporalUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof TemporalBudgetError) return true;
    if (isGrpcDeadlineError(e)) return true;
    if (isGrpcServiceError(e) && GRPC_UNREACHABLE_CODES.has(e.code)) return true;
  }
  return false;
}

/** Budget of the Temporal calls of one webhook request, from the moment its body is read. */
export const DEFAULT_TEMPORAL_BUDGET_MS = 1_500;
/** How long a Temporal success vouches for the connection before a request checks it first. */
const REACHABLE_FRESH_MS = 10_000;
/** Deadline of that connection check. */
const CONNECTION_CHECK_MS = 500;
/** Entries of each list in a 202 body (and fingerprints per target); the rest are counted in `omitted`. */
export const ANSWER_LIST_LIMIT = 100;

/** A target whose firing alerts were recorded: one incident, started or attached to. */
interface IncidentEntry {
  workflowId: string;
  runbook: string;
  attached: boolean;
  /** Firing alerts of this target in the request; the first one is the one the signal carries. */
  alerts: number;
  fingerprints: string[];
  /**
   * A re-send of an alert delivered to this incident moments ago (ingress/coalesce.ts `freshMs`):
   * answered at once, counted on the target's next call.
   */
  deferred?: true;
}

interface ResolvedEntry {
  workflowId: string;
  runbook: string;
  alerts: number;
  fingerprints: string[];
  signalled: boolean;
  /** Why the incident was not signalled. */
  reason?: string;
}

/** The 202 answer to Alertmanager (which ignores it; it is for people and tests). */
interface WebhookAnswer {
  incidents: IncidentEntry[];
  ignored: { index: number; fingerprint: string; alertname?: string; reason: string }[];
  resolved: ResolvedEntry[];
  invalid: InvalidAlert[];
  skipped?: { count: number; reason: string };
  omitted?: Record<string, number>;
}

/**
 * `work`, or a TemporalBudgetError at `deadline` if it has not settled by then: the SDK retries an
 * unreachable server with backoff and may sleep past a gRPC deadline before it gives up.
 */
async function settleBy<T>(work: Promise<T>, deadline: number, what: string): Promise<T> {
  work.catch(() => undefined); // settling after the timer: its error has been answered already
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TemporalBudgetError(what)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

type BodyResult = { ok: true; body: Buffer } | { ok: false; answer: Answer };

/**
 * Reads the body up to `limit` bytes. A declared Content-Length over the limit is refused before
 * reading; a body that grows past it stops being read at once (the connection is closed after the
 * 413, so the rest is never consumed).
 */
async function readLimited(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const tooLarge = (): BodyResult => ({
    ok: false,
    answer: fail(413, `request body exceeds the limit of ${limit} bytes`, 'too_large', { connection: 'close' }),
  });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return tooLarge();
  return new Promise<BodyResult>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve({ ok: true, body: Buffer.concat(chunks) });
    };
    const onError = (err: Error) => {
      cleanup();
      resolve({ ok: false, answer: fail(400, `could not read the request body: ${err.message}`, 'bad_json') });
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function createIngress(deps: IngressDeps): Ingress {
  const alertmanagerToken = deps.settings.ALERTMANAGER_TOKEN;
  if (!alertmanagerToken) {
    throw new Error('ALERTMANAGER_TOKEN is not set: the ingress never serves an unauthenticated Alertmanager webhook');
  }
  const limit = deps.settings.INGRESS_BODY_LIMIT_BYTES;
  const temporalTimeoutMs = deps.temporalTimeoutMs ?? DEFAULT_TEMPORAL_BUDGET_MS;
  const { logger, metrics } = deps;
  const incidents: IncidentClientOptions = { client: deps.client, taskQueue: deps.taskQueue };
  const slack = deps.settings.SLACK_SIGNING_SECRET
    ? createSlackInteractions({
        signingSecret: deps.settings.SLACK_SIGNING_SECRET,
        decisionKey: deps.settings.AGENTRUNS_DECISION_KEY,
        client: deps.client,
        runbooks: deps.runbooks,
        logger,
        metrics,
        slack: deps.slack,
        decide: deps.decide,
        now: deps.now,
      })
    : null;

  const background = new Set<Promise<void>>();
  /** Temporal calls still settling after their request was answered (the SDK's retries end at the deadline). */
  const lingering = new Set<Promise<void>>();
  /** `call`, remembered until it settles, so stop() and settled() wait for it even after its request was answered. */
  const track = <T>(call: Promise<T>): Promise<T> => {
    const done = call.then(
      () => undefined,
      () => undefined,
    );
    lingering.add(done);
    void done.finally(() => lingering.delete(done));
    return call;
  };
  let stopping = false;

  // ---- Alertmanager -----------------------------------------------------------------------
  const authenticate = (req: IncomingMessage): Answer | null => {
    const value = req.headers.authorization;
    const match = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
    if (!match) {
      return fail(401, 'missing bearer token: send "Authorization: Bearer <ALERTMANAGER_TOKEN>"', 'unauthenticated', {
        'www-authenticate': 'Bearer realm="agentruns"',
      });
    }
    if (!tokenMatches(match[1]!, alertmanagerToken)) return fail(403, 'the bearer token is not valid for this webhook', 'forbidden');
    return null;
  };

  /** When a Temporal call last succeeded; a request that finds it stale checks the connection first. */
  let reachableAt = Number.NEGATIVE_INFINITY;

  /**
   * The quick connection check: one GetSystemInfo under a short deadline, skipped while a Temporal
   * call succeeded in the last {@link REACHABLE_FRESH_MS}. Temporal down for a while → 503 in about
   * half a second instead of the whole budget; Temporal up → one cheap call per idle period.
   */
  const checkConnection = async (budgetEnd: number) => {
    if (Date.now() - reachableAt < REACHABLE_FRESH_MS) return;
    const deadline = Math.min(budgetEnd, Date.now() + CONNECTION_CHECK_MS);
    const connection = deps.client.connection;
    await settleBy(
      track(connection.withDeadline(deadline, () => connection.workflowService.getSystemInfo({}))),
      deadline,
      'the connection check',
    );
    reachableAt = Date.now();
  };

  /**
   * The open/attach calls, coalesced per target (./coalesce.ts): each runs outside the request that
   * happened to start it, under its own deadline and abort, so it serves every request waiting on it.
   */
  const opening = new TargetCoalescer<{ runbook: RunbookConfig; alert: AlertInfo }, OpenedIncident>(
    (batches) => {
      const [first, ...others] = batches.map(({ alert: { alert }, repeats }) => (repeats > 1 ? { ...alert, repeats } : alert));
      const { runbook } = batches[0]!.alert;
      const controller = new AbortController();
      const deadline = Date.now() + temporalTimeoutMs;
      // The call itself is tracked, not only its budget: the SDK may still be between two retries
      // when the budget is spent, and stop() must not close the connection under it.
      const call = track(
        deps.client.withAbortSignal(controller.signal, () =>
          deps.client.withDeadline(deadline, () => openIncident(incidents, runbook, { source: 'alertmanager', alert: first! }, { also: others })),
        ),
      );
      // Aborted only when it failed or ran out of budget: an abort makes a DOMException with its
      // stack, which a storm's thousands of successful calls need not pay for.
      return settleBy(call, deadline, `the Temporal call (budget ${temporalTimeoutMs} ms)`).catch((err: unknown) => {
        controller.abort();
        throw err;
      });
    },
    {
      track: (run) => void track(run),
      lost: (deliveries, err) =>
        logger.warn('re-sends answered at once were not counted: the call carrying them failed (their alerts were delivered before)', { deliveries, err }),
    },
  );

  /** One open/attach for the target's firing alerts and at most one resolve for its resolved ones. */
  const recordGroup = async (group: TargetGroup<ReadAlert, RunbookConfig>): Promise<{ incident?: IncidentEntry; resolved?: ResolvedEntry }> => {
    const { runbook, firing, resolved } = group;
    const out: { incident?: IncidentEntry; resolved?: ResolvedEntry } = {};
    const first = firing[0];
    if (first) {
      // The first firing alert rides on the signal; the others of the same target add nothing the
      // incident needs (it is one per target) and are listed in the answer and the log.
      const delivered = await opening.deliver(incidentWorkflowId(runbook.target), first.fingerprint, { runbook, alert: toAlertInfo(first) });
      // Only the first delivery of the call that started the run is "started"; the rest attached.
      const opened = { ...delivered.result, attached: delivered.result.attached || !delivered.first };
      (opened.attached ? metrics.incidentsAttached : metrics.incidentsStarted).inc({ runbook: runbook.id }, firing.length);
      const fingerprints = firing.slice(0, ANSWER_LIST_LIMIT).map((a) => a.fingerprint);
      out.incident = { workflowId: opened.workflowId, runbook: runbook.id, attached: opened.attached, alerts: firing.length, fingerprints, ...(delivered.deferred ? { deferred: true as const } : {}) };
    }
    if (resolved[0]) {
      const workflowId = incidentWorkflowId(runbook.target);
      // A target with an alert still firing is not resolved, whatever its other alerts say.
      const signalled = first ? false : await resolveIncidentAlert(incidents, runbook, toAlertInfo(resolved[0]));
      const reason = signalled ? undefined : first ? 'another alert of this target is firing in the same request' : 'no open incident for this target';
      metrics.alertsResolved.inc({ runbook: runbook.id, signalled: String(signalled) }, resolved.length);
      out.resolved = {
        workflowId,
        runbook: runbook.id,
        alerts: resolved.length,
        fingerprints: resolved.slice(0, ANSWER_LIST_LIMIT).map((a) => a.fingerprint),
        signalled,
        ...(reason ? { reason } : {}),
      };
    }
    return out;
  };

  /**
   * The Temporal calls of one request, all under one budget that started when the body was read:
   * a gRPC deadline for each call and a timer that aborts them and answers 503 when the budget is
   * spent (the SDK's retries of an unreachable server may overrun a deadline by a few hundred ms).
   * Targets are recorded in parallel. An attach that reached Temporal just before the abort is
   * harmless: Alertmanager re-sends the group and the re-sent alerts attach to the same incident.
   */
  const recordGroups = async (groups: TargetGroup<ReadAlert, RunbookConfig>[], budgetEnd: number) => {
    const controller = new AbortController();
    const work = deps.client.withAbortSignal(controller.signal, () =>
      deps.client.withDeadline(budgetEnd, async () => {
        await checkConnection(budgetEnd);
        // Each target's calls run in sequence inside recordGroup, so tracking it tracks them.
        const recorded = await Promise.all(groups.map((group) => track(recordGroup(group))));
        reachableAt = Date.now();
        return recorded;
      }),
    );
    try {
      return await settleBy(work, budgetEnd, `the Temporal calls (budget ${temporalTimeoutMs} ms)`);
    } catch (err) {
      if (isTemporalUnavailable(err)) reachableAt = Number.NEGATIVE_INFINITY;
      // Whatever is still pending (the other targets' calls after one failed) is cancelled; a call
      // between two SDK retries cannot be, but its retries end at the deadline, and track() keeps
      // stop() waiting for it. After a success nothing is pending.
      controller.abort();
      throw err;
    }
  };

  const handleAlertmanager = async (req: IncomingMessage, log: Logger): Promise<Answer> => {
    if (mediaType(req) !== 'application/json') {
      return fail(415, `content type must be application/json (got ${req.headers['content-type'] ? JSON.stringify(req.headers['content-type']) : 'none'})`, 'unsupported_media_type');
    }
    const denied = authenticate(req);
    if (denied) return denied;
    const read = await readLimited(req, limit);
    if (!read.ok) return read.answer;
    const budgetEnd = Date.now() + temporalTimeoutMs;
    let json: unknown;
    try {
      json = JSON.parse(utf8.decode(read.body));
    } catch (err) {
      const what = err instanceof SyntaxError ? err.message : 'the body is not UTF-8';
      return fail(400, `request body is not valid JSON: ${what}`, 'bad_json');
    }
    const parsed = parseAlertmanagerPayload(json);
    if (!parsed.ok) {
      return {
        status: 422,
        body: {
          error: `not an Alertmanager webhook payload (version 4): ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
          issues: parsed.issues,
        },
        reason: 'invalid_payload',
      };
    }
    const { payload, invalid, skipped } = parsed;
    if (payload.truncatedAlerts > 0) log.warn('Alertmanager truncated the alert group', { truncatedAlerts: payload.truncatedAlerts });
    for (const alert of payload.alerts) metrics.alertsReceived.inc({ status: alert.status });
    if (invalid.length > 0) {
      metrics.alertsInvalid.inc({ reason: 'invalid_alert' }, invalid.length);
      log.warn('alerts not read: they fail the schema', { count: invalid.length, first: invalid.slice(0, 5) });
    }
    if (skipped > 0) {
      metrics.alertsInvalid.inc({ reason: 'over_limit' }, skipped);
      log.warn(`alerts not read: past the first ${MAX_ALERTS_READ} of the request`, { count: skipped });
    }
    const { groups, ignored } = groupByTarget(payload.alerts, deps.runbooks);
    if (ignored.length > 0) {
      metrics.alertsIgnored.inc({ reason: 'no_matching_runbook' }, ignored.length);
      log.info('alerts ignored: no runbook matches', {
        count: ignored.length,
        first: ignored.slice(0, 5).map(({ alert, reason }) => ({ fingerprint: alert.fingerprint, alertname: alert.labels.alertname, reason })),
      });
    }

    let recorded: { incident?: IncidentEntry; resolved?: ResolvedEntry }[] = [];
    if (groups.length > 0) {
      try {
        recorded = await recordGroups(groups, budgetEnd);
      } catch (err) {
        if (isTemporalUnavailable(err)) {
          log.error('Temporal is unreachable; answering 503 so Alertmanager retries', { err });
          return fail(503, 'Temporal is unreachable; the alert was not recorded, retry later', 'temporal_unavailable', { 'retry-after': '10' });
        }
        log.error('alert routing failed', { err });
        return fail(500, 'internal error while recording the alert; retry later', 'internal_error');
      }
    }

    const omitted: Record<string, number> = {};
    const listed = <T>(name: string, list: readonly T[]): T[] => {
      if (list.length > ANSWER_LIST_LIMIT) omitted[name] = list.length - ANSWER_LIST_LIMIT;
      return list.slice(0, ANSWER_LIST_LIMIT);
    };
    const body: WebhookAnswer = {
      incidents: recorded.flatMap((r) => (r.incident ? [r.incident] : [])),
      ignored: listed(
        'ignored',
        ignored.map(({ alert, reason }) => ({ index: alert.index, fingerprint: alert.fingerprint, alertname: alert.labels.alertname, reason })),
      ),
      resolved: recorded.flatMap((r) => (r.resolved ? [r.resolved] : [])),
      invalid: listed('invalid', invalid),
      ...(skipped > 0 ? { skipped: { count: skipped, reason: `only the first ${MAX_ALERTS_READ} alerts of a request are read` } } : {}),
    };
    if (Object.keys(omitted).length > 0) body.omitted = omitted;
    // The request's one log line says what it reached (the first few targets; the answer lists all).
    const logged = {
      incidents: body.incidents.slice(0, 5).map((i) => ({ workflowId: i.workflowId, attached: i.attached, alerts: i.alerts })),
      ...(body.resolved.length ? { resolved: body.resolved.slice(0, 5).map((r) => ({ workflowId: r.workflowId, signalled: r.signalled, ...(r.reason ? { reason: r.reason } : {}) })) } : {}),
      ...(body.incidents.length > 5 ? { moreIncidents: body.incidents.length - 5 } : {}),
    };
    return { status: 202, body, logged };
  };

  // ---- Slack ------------------------------------------------------------------------------
  const handleSlack = async (req: IncomingMessage, log: Logger): Promise<Answer> => {
    if (!slack) return fail(404, 'Slack interactions are not enabled (SLACK_SIGNING_SECRET is not set)', 'not_configured');
    if (mediaType(req) !== 'application/x-www-form-urlencoded') {
      return fail(415, 'content type must be application/x-www-form-urlencoded', 'unsupported_media_type');
    }
    const read = await readLimited(req, limit);
    if (!read.ok) return read.answer;
    const receipt = slack.receive(read.body, req.headers, log);
    if (receipt.work) {
      const work = receipt.work;
      // Starts on the next turn of the event loop, after the 200 was written (the answer is sent in
      // this turn's microtasks); tracked from now on so shutdown and tests can wait for it.
      const task: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
        .then(work)
        .catch((err: unknown) => log.error('Slack interaction failed', { err }))
        .finally(() => background.delete(task));
      background.add(task);
    }
    return { status: receipt.status, body: receipt.body, reason: receipt.rejectReason };
  };

  // ---- service endpoints --------------------------------------------------------------------
  const readiness = async (): Promise<Answer> => {
    if (stopping) return { status: 503, body: { status: 'stopping' } };
    try {
      await deps.client.connection.withDeadline(Date.now() + (deps.readinessTimeoutMs ?? 2_000), () =>
        deps.client.connection.workflowService.getSystemInfo({}),
      );
      return { status: 200, body: { status: 'ready', temporal: 'reachable' } };
    } catch (err) {
      return { status: 503, body: { status: 'not ready', error: `Temporal is unreachable: ${(err as Error).message}` } };
    }
  };

  const dispatch = async (req: IncomingMessage, route: Route | null, path: string, log: Logger): Promise<Answer> => {
    if (route === null) return fail(404, `no such endpoint: ${path.slice(0, 200)}`, 'not_found');
    const allowed: readonly string[] = ROUTES[route];
    if (!allowed.includes(req.method ?? '')) {
      return fail(405, `method ${req.method} not allowed on ${route}; use ${allowed.join(' or ')}`, 'method_not_allowed', { allow: allowed.join(', ') });
    }
    switch (route) {
      case '/alertmanager':
        return handleAlertmanager(req, log);
      case '/slack/interactions':
        return handleSlack(req, log);
      case '/healthz':
        return { status: 200, body: { status: 'ok' } };
      case '/readyz':
        return readiness();
      case '/metrics': {
        const rendered = await metrics.render();
        return { status: 200, body: rendered.body, headers: { 'content-type': rendered.contentType } };
      }
    }
  };

  const send = (req: IncomingMessage, res: ServerResponse, answer: Answer, requestId: string) => {
    const isText = typeof answer.body === 'string';
    const text = answer.body === undefined ? '' : isText ? (answer.body as string) : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      'x-request-id': requestId,
      // While stopping, no connection is kept alive. Neither is one whose body was refused unread
      // (401, 413, …): keeping it would mean reading and discarding the rest of that body.
      ...(stopping || !req.complete ? { connection: 'close' } : {}),
      ...answer.headers,
    });
    res.end(text);
  };

  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    const startedAt = process.hrtime.bigint();
    const requestId = randomUUID();
    let path = '/';
    try {
      path = new URL(req.url ?? '/', 'http://ingress.invalid').pathname;
    } catch {
      path = req.url ?? '/';
    }
    const route = Object.hasOwn(ROUTES, path) ? (path as Route) : null;
    const log = logger.child({ requestId, method: req.method, path: route ?? 'other' });
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      metrics.requestDuration.observe({ route: route ?? 'other', method: req.method ?? '', status: String(res.statusCode) }, seconds);
      if (stopping) server.closeIdleConnections();
    });
    dispatch(req, route, path, log)
      .catch((err: unknown): Answer => {
        log.error('request failed', { err });
        return fail(500, 'internal error', 'internal_error');
      })
      .then((answer) => {
        if (answer.status >= 400 && answer.reason) {
          if (route === '/slack/interactions') metrics.slackRejected.inc({ reason: answer.reason });
          else if (route === '/alertmanager' || route === null) metrics.alertsRejected.inc({ reason: answer.reason });
          log.warn('request rejected', { status: answer.status, reason: answer.reason, error: (answer.body as { error?: string } | undefined)?.error });
        } else if (route === '/alertmanager' || route === '/slack/interactions') {
          log.info('request answered', { status: answer.status, ...answer.logged });
        }
        send(req, res, answer, requestId);
      })
      .catch((err: unknown) => log.error('could not send the answer', { err }));
  });

  const settled = async () => {
    while (background.size > 0 || lingering.size > 0) await Promise.allSettled([...background, ...lingering]);
  };

  return {
    server,
    async start(options = {}) {
      const port = options.port ?? deps.settings.INGRESS_PORT ?? 8080;
      const host = options.host ?? deps.settings.INGRESS_HOST ?? '0.0.0.0';
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      const url = `http://${shownHost}:${address.port}`;
      logger.info('ingress listening', { url, runbooks: deps.runbooks.map((r) => r.id), slack: slack !== null });
      return url;
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      logger.info('ingress stopping: finishing in-flight requests');
      const closed = new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
      });
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), deps.shutdownGraceMs ?? 10_000);
      });
      const finished = await Promise.race([Promise.all([closed, settled()]).then(() => 'done' as const), grace]);
      clearTimeout(timer);
      if (finished === 'timeout') {
        logger.warn('ingress shutdown grace period over: closing remaining connections');
        server.closeAllConnections();
        await closed;
      }
      logger.info('ingress stopped');
    },
    settled,
  };
}
