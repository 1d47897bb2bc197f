/**
 * Argo CD through its REST API (bearer token): trigger a sync of the application after the restart
 * PR merged, then wait — heartbeating — until the sync operation finished and health settled.
 * A sync that fails, or an application that stays unhealthy, is returned as it is: verification
 * decides what it means.
 */
import { heartbeat, pause } from './context';
import { z } from 'zod';
import { failureFromStatus, namedFailure } from './errors';

export interface ArgoClientConfig {
  /** Base URL of the Argo CD API server, e.g. https://argocd.example.com */
  baseUrl: string;
  token: string;
  /** Poll interval while waiting for the sync; default 2 s. */
  pollIntervalMs?: number;
}

const applicationSchema = z.object({
  metadata: z.object({ name: z.string() }),
  status: z
    .object({
      sync: z.object({ status: z.string().optional(), revision: z.string().optional() }).partial().optional(),
      health: z.object({ status: z.string().optional(), message: z.string().optional() }).partial().optional(),
      operationState: z
        .object({ phase: z.string().optional(), message: z.string().optional(), finishedAt: z.string().optional() })
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
  revision?: string;
  at: string;
}

const SETTLED_HEALTH = new Set(['Healthy', 'Degraded', 'Missing', 'Suspended']);
const FINISHED_OPERATION = new Set(['Succeeded', 'Failed', 'Error']);

export function createArgoActivities(config: ArgoClientConfig | undefined) {
  const request = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<Application> => {
    if (!config) throw namedFailure('NotAllowedError', 'Argo CD sync is enabled in the runbook but the worker has no ARGOCD_SERVER/ARGOCD_AUTH_TOKEN');
    const url = `${config.baseUrl.replace(/\/$/, '')}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${config.token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      throw failureFromStatus(undefined, `Argo CD ${method} ${path}`, err);
    }
    const text = await response.text();
    if (!response.ok) {
      throw failureFromStatus(response.status, `Argo CD ${method} ${path}`, new Error(text.slice(0, 300)));
    }
    const parsed = applicationSchema.safeParse(safeJson(text));
    if (!parsed.success) throw namedFailure('UpstreamError', `Argo CD ${method} ${path}: unexpected response: ${parsed.error.message}`);
    return parsed.data;
  };

  return {
    /** POST /api/v1/applications/{name}/sync, then poll until the operation finished and health settled. */
    async syncArgoApplication(input: { application: string; revision?: string; timeoutMs: number }): Promise<ArgoSyncResult> {
      const path = `/api/v1/applications/${encodeURIComponent(input.application)}`;
      await request('POST', `${path}/sync`, { name: input.application, prune: false, ...(input.revision ? { revision: input.revision } : {}) });
      const deadline = Date.now() + input.timeoutMs;
      for (;;) {
        const app = await request('GET', path);
        const result = summarize(input.application, app);
        heartbeat(result);
        if (FINISHED_OPERATION.has(result.operation) && SETTLED_HEALTH.has(result.health)) return result;
        if (Date.now() >= deadline) return { ...result, operation: `${result.operation} (timed out)` };
        await pause(config?.pollIntervalMs ?? 2000);
      }
    },
  };
}

function summarize(application: string, app: Application): ArgoSyncResult {
  return {
    application,
    status: app.status?.sync?.status ?? 'Unknown',
    health: app.status?.health?.status ?? 'Unknown',
    operation: app.status?.operationState?.phase ?? 'Unknown',
    revision: app.status?.sync?.revision,
    at: new Date().toISOString(),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}


export type ArgoActivities = ReturnType<typeof createArgoActivities>;
