/**
 * Argo CD through its REST API (bearer token): trigger a sync of the application after the restart
 * PR merged, then wait — heartbeating — until OUR sync operation finished and health settled.
 * A sync that fails, or an application that stays unhealthy, is returned as it is: verification
 * decides what it means.
 *
 * - The sync is not pinned to a revision: Argo CD syncs the tracked branch's head, which contains the
 *   merge (pinning the merge SHA could roll back GitOps commits that landed after it).
 * - Right after the POST the application may still show the PREVIOUS operation (finished, healthy):
 *   only an operation that started at or after our request (minus {@link CLOCK_SKEW_MS} of clock
 *   skew between worker and Argo CD) and is no longer pending (`operation` cleared) counts.
 * - When Argo CD answers that another operation is already in progress (an automated sync noticed
 *   the merge first), that operation applies the same Git head: it is waited for and taken as ours.
 * - The sync is requested once per incident, whatever is retried: the request time travels in the
 *   heartbeat details (the first attempt's scheduling time when none reached Temporal), and a retried
 *   activity — after a failed poll, a lost answer or a lost worker — first looks at the application
 *   and waits for the operation requested or started since then instead of POSTing another. A POST
 *   that got no answer (connection lost after Argo CD took it) is checked the same way.
 * - Error bodies from Argo CD are redacted before they appear in any message.
 */
import { activityContext, heartbeat, pause } from './context';
import { z } from 'zod';
import type { ArgoSourceFacts } from '../domain/argo-ownership';
import { redact } from '../domain/redact';
import { failureFromStatus, namedFailure } from './errors';

export interface ArgoClientConfig {
  /** Base URL of the Argo CD API server, e.g. https://argocd.example.com */
  baseUrl: string;
  token: string;
  /** Poll interval while waiting for the sync; default 2 s. */
  pollIntervalMs?: number;
  /** Per request: no answer within this many milliseconds is a failed request. Default 15 s. */
  requestTimeoutMs?: number;
}

/** What a sync activity heartbeats, so that its retry finds the operation it requested. */
interface SyncProgress {
  /** When the first attempt asked Argo CD for the sync (worker clock, ms). */
  requestedAt: number;
  adopted?: boolean;
  /** The operation taken as ours, once seen (Argo CD's clock). */
  operationStartedAt?: string;
}

/** Tolerated difference between the worker's clock and Argo CD's when matching our operation. */
export const CLOCK_SKEW_MS = 5000;

const sourceSchema = z.object({
  repoURL: z.string(),
  path: z.string().optional(),
  targetRevision: z.string().optional(),
  directory: z.object({ recurse: z.boolean().optional() }).partial().optional(),
});

const applicationSchema = z.object({
  metadata: z.object({ name: z.string() }),
  /** Where the application reads its manifests: one source, or several (multi-source applications). */
  spec: z.object({ source: sourceSchema.optional(), sources: z.array(sourceSchema).optional() }).partial().optional(),
  /** The requested operation, present until the controller finished it. */
  operation: z.unknown().optional(),
  status: z
    .object({
      sync: z.object({ status: z.string().optional(), revision: z.string().optional() }).partial().optional(),
      health: z.object({ status: z.string().optional(), message: z.string().optional() }).partial().optional(),
      operationState: z
        .object({
          phase: z.string().optional(),
          message: z.string().optional(),
          startedAt: z.string().optional(),
          finishedAt: z.string().optional(),
          syncResult: z.object({ revision: z.string().optional() }).partial().optional(),
        })
        .partial()
        .optional(),
    })
    .optional(),
});
type Application = z.infer<typeof applicationSchema>;

export interface ArgoSyncResult {
  application: string;
  status: string;
  health: string;
  operation: string;
  /** The revision the operation synced (syncResult), else the application's sync revision. */
  revision?: string;
  /** When the accepted operation started (Argo CD's clock). */
  operationStartedAt?: string;
  /** True when the operation was already in progress (e.g. automated sync) and was waited for. */
  adopted?: boolean;
  at: string;
}

export interface SyncArgoApplicationInput {
  application: string;
  /**
   * Ignored: the sync is never pinned to a revision (Argo CD syncs the tracked branch's head). Kept
   * so callers that still pass the merge SHA keep compiling.
   */
  revision?: string;
  timeoutMs: number;
  /**
   * Sync only these resources (Argo CD's `resources` of the sync request): the incident ships its
   * own Deployment, never other pending changes of the application.
   */
  resources?: SyncResource[];
}

/** One resource of a selective sync (Argo CD's v1alpha1SyncOperationResource). */
export interface SyncResource {
  group: string;
  kind: string;
  name: string;
  namespace?: string;
}

const SETTLED_HEALTH = new Set(['Healthy', 'Degraded', 'Missing', 'Suspended']);
const FINISHED_OPERATION = new Set(['Succeeded', 'Failed', 'Error']);

/** A request that got no answer (refused, reset, timed out): whether Argo CD acted on it is unknown. */
class ArgoUnreachableError extends Error {
  constructor(
    readonly what: string,
    readonly original: unknown,
  ) {
    super(`${what}: unreachable`);
  }

  failure() {
    return failureFromStatus(undefined, this.what, new Error(redact(networkMessage(this.original))));
  }
}

/** Why fetch got no answer: a timeout, or the network error under its "fetch failed". */
function networkMessage(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'no answer in time (request timed out)';
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  if (cause instanceof Error) return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** A non-2xx answer of the Argo CD API, its body already redacted. */
class ArgoHttpError extends Error {
  constructor(
    readonly status: number,
    readonly grpcCode: number | undefined,
    detail: string,
  ) {
    super(detail);
  }
}

export function createArgoActivities(config: ArgoClientConfig | undefined) {
  const request = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<Application> => {
    if (!config) throw namedFailure('NotAllowedError', 'Argo CD sync is enabled in the runbook but the worker has no ARGOCD_SERVER/ARGOCD_AUTH_TOKEN');
    const url = `${config.baseUrl.replace(/\/$/, '')}${path}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${config.token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(config.requestTimeoutMs ?? 15_000),
      });
      text = await response.text();
    } catch (err) {
      throw new ArgoUnreachableError(`Argo CD ${method} ${path}`, err);
    }
    if (!response.ok) throw new ArgoHttpError(response.status, grpcCodeOf(text), errorDetail(text));
    const parsed = applicationSchema.safeParse(safeJson(text));
    if (!parsed.success) throw namedFailure('UpstreamError', `Argo CD ${method} ${path}: unexpected response: ${redact(parsed.error.message)}`);
    return parsed.data;
  };

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<Application> => {
    try {
      return await request(method, path, body);
    } catch (err) {
      if (err instanceof ArgoHttpError) throw failureFromStatus(err.status, `Argo CD ${method} ${path}`, new Error(err.message));
      if (err instanceof ArgoUnreachableError) throw err.failure();
      throw err;
    }
  };

  return {
    /**
     * GET /api/v1/applications/{name}: the application's sources (`spec.source`, or every entry of
     * `spec.sources` of a multi-source application), for the ownership check before a PR. Read-only.
     */
    async getArgoApplicationSources(application: string): Promise<ArgoSourceFacts[]> {
      const app = await call('GET', `/api/v1/applications/${encodeURIComponent(application)}`);
      const sources = app.spec?.sources?.length ? app.spec.sources : app.spec?.source ? [app.spec.source] : [];
      return sources.map((s) => ({
        repoURL: s.repoURL,
        ...(s.path !== undefined ? { path: s.path } : {}),
        ...(s.targetRevision !== undefined ? { targetRevision: s.targetRevision } : {}),
        ...(s.directory ? { directoryRecurse: s.directory.recurse === true } : {}),
      }));
    },

    /**
     * POST /api/v1/applications/{name}/sync (no revision: the tracked head), then poll until our
     * operation finished and health settled. An operation already in progress is waited for instead,
     * and so is the one a previous attempt requested (see the module comment). On timeout the last
     * state is returned with `(timed out)` in `operation`.
     */
    async syncArgoApplication(input: SyncArgoApplicationInput): Promise<ArgoSyncResult> {
      const path = `/api/v1/applications/${encodeURIComponent(input.application)}`;
      const prior = priorProgress();
      const progress: SyncProgress = prior ?? { requestedAt: Date.now() };
      heartbeat(progress);
      // A retry looks first: the sync it requested may be running, or finished, already.
      const alreadyRequested = prior ? requestedSince(await call('GET', path), progress) : false;
      if (!alreadyRequested) {
        try {
          await request('POST', `${path}/sync`, {
            name: input.application,
            prune: false,
            ...(input.resources?.length ? { resources: input.resources } : {}),
          });
        } catch (err) {
          if (err instanceof ArgoUnreachableError) {
            // No answer: Argo CD may have taken the request all the same. Look before failing.
            const app = await request('GET', path).catch(() => null);
            if (!app || !requestedSince(app, progress)) throw err.failure();
          } else {
            if (!(err instanceof ArgoHttpError)) throw err;
            if (!isOperationInProgress(err)) throw failureFromStatus(err.status, `Argo CD POST ${path}/sync`, new Error(err.message));
            // Argo CD is already syncing (automated sync after the merge): the same Git head, so it is ours.
            progress.adopted = true;
          }
        }
      }
      // A retry keeps the first attempt's deadline: retries never stretch the sync timeout.
      const deadline = progress.requestedAt + input.timeoutMs;
      for (let polls = 1; ; polls++) {
        const result = summarize(input.application, await call('GET', path), progress.requestedAt, progress.adopted === true, progress.operationStartedAt);
        if (result.operationStartedAt) progress.operationStartedAt = result.operationStartedAt;
        heartbeat({ ...progress, polls });
        if (FINISHED_OPERATION.has(result.operation) && SETTLED_HEALTH.has(result.health)) return result;
        if (Date.now() >= deadline) return { ...result, operation: `${result.operation} (timed out)` };
        await pause(config?.pollIntervalMs ?? 2000);
      }
    },
  };
}

/** The progress a previous attempt heartbeated; else, on a retry, the first attempt's scheduling time. */
function priorProgress(): SyncProgress | null {
  const ctx = activityContext();
  if (!ctx) return null;
  const details: unknown = ctx.info.heartbeatDetails;
  if (typeof details === 'object' && details !== null && typeof (details as SyncProgress).requestedAt === 'number') {
    const { requestedAt, adopted, operationStartedAt } = details as SyncProgress;
    return { requestedAt, ...(adopted ? { adopted } : {}), ...(typeof operationStartedAt === 'string' ? { operationStartedAt } : {}) };
  }
  return ctx.info.attempt > 1 ? { requestedAt: ctx.info.scheduledTimestampMs } : null;
}

/**
 * Whether the application already has the operation this incident asked for: one requested and not
 * yet picked up, the one a previous attempt saw, or one started since our request.
 */
function requestedSince(app: Application, progress: SyncProgress): boolean {
  if (app.operation !== undefined && app.operation !== null) {
    progress.adopted = progress.adopted || !progress.operationStartedAt;
    return true;
  }
  const startedAt = app.status?.operationState?.startedAt;
  if (!startedAt) return false;
  return startedAt === progress.operationStartedAt || startedSince(startedAt, progress.requestedAt);
}

/**
 * The application seen from our sync: `operation` is the phase of OUR operation, or `Pending` while
 * status.operationState still describes an earlier one. The state is ours when it started no earlier
 * than our request, give or take the clock skew — or, when we adopted an operation that was already
 * running, whatever started before; in both cases a finished state while an operation is still
 * requested (Argo CD clears `operation` only when the controller finished it) is the previous one.
 */
function summarize(application: string, app: Application, requestedAt: number, adopted: boolean, seenStartedAt?: string): ArgoSyncResult {
  const state = app.status?.operationState;
  const pending = app.operation !== undefined && app.operation !== null;
  const phase = state?.phase ?? 'Unknown';
  const known = seenStartedAt !== undefined && state?.startedAt === seenStartedAt;
  const ours = state !== undefined && (adopted || known || startedSince(state.startedAt, requestedAt)) && !(pending && FINISHED_OPERATION.has(phase));
  const revision = (ours ? state.syncResult?.revision : undefined) ?? app.status?.sync?.revision;
  return {
    application,
    status: app.status?.sync?.status ?? 'Unknown',
    health: app.status?.health?.status ?? 'Unknown',
    operation: ours ? phase : 'Pending',
    ...(revision ? { revision } : {}),
    ...(ours && state.startedAt ? { operationStartedAt: state.startedAt } : {}),
    ...(adopted ? { adopted } : {}),
    at: new Date().toISOString(),
  };
}

function startedSince(startedAt: string | undefined, requestedAt: number): boolean {
  const started = startedAt ? Date.parse(startedAt) : Number.NaN;
  return !Number.isNaN(started) && started >= requestedAt - CLOCK_SKEW_MS;
}

/** Argo CD's 400 FailedPrecondition (gRPC code 9) "another operation is already in progress". */
function isOperationInProgress(err: ArgoHttpError): boolean {
  return err.status === 400 && (err.grpcCode === 9 || /another operation is already in progress/i.test(err.message));
}

function grpcCodeOf(text: string): number | undefined {
  const body = safeJson(text);
  const code = typeof body === 'object' && body !== null ? (body as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** The message of an Argo CD error body (`{error, code, message}`), else its text; always redacted. */
function errorDetail(text: string): string {
  const body = safeJson(text);
  const message = typeof body === 'object' && body !== null ? (body as { message?: unknown; error?: unknown }).message ?? (body as { error?: unknown }).error : undefined;
  return redact(typeof message === 'string' && message !== '' ? message : text.slice(0, 300)).slice(0, 300);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}


export type ArgoActivities = ReturnType<typeof createArgoActivities>;
