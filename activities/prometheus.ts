/**
 * The runbook's "status topic resumes" after a restart: a PromQL expression evaluated as an instant
 * query against the Prometheus HTTP API (`GET /api/v1/query`), polled with heartbeats until it holds
 * or the window ends. It holds when the answer is a vector with at least one sample and no sample is
 * 0 or NaN (or a non-zero scalar): `rate(torghut_ws_status_messages_total[1m]) > 0` is empty while
 * nothing is published. Every answer is validated; an error, a timeout or an unexpected body is a
 * look that did not hold (said in the detail), never a pass.
 */
import { z } from 'zod';
import { heartbeat } from './context';
import { rest } from './waits';

export interface PrometheusConfig {
  /** The Prometheus server's base URL (PROMETHEUS_URL). */
  baseUrl: string;
  /** Deadline of each query; default 10 s. */
  requestTimeoutMs?: number;
}

export interface PromqlCheckInput {
  query: string;
  /** This window's length; the workflow loops windows until the runbook's timeout. */
  windowMs: number;
  pollIntervalMs?: number;
}

export interface PromqlCheck {
  holds: boolean;
  checkedAt: string;
  detail: string;
  /** Set when the check could not be made at all (no Prometheus configured). */
  unchecked?: string;
}

const sample = z.tuple([z.number(), z.string()]);
const answerSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sample })) }),
      z.object({ resultType: z.literal('scalar'), result: sample }),
      z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
      z.object({ resultType: z.literal('string'), result: sample }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() }),
]);

type Look = { holds: boolean; detail: string };

const truthy = (value: string) => {
  const n = Number(value);
  return !Number.isNaN(n) && n !== 0;
};

const seriesName = (metric: Record<string, string>) => {
  const { __name__: name, ...labels } = metric;
  const shown = Object.entries(labels).slice(0, 4).map(([k, v]) => `${k}="${v.slice(0, 60)}"`);
  return `${name ?? ''}{${shown.join(',')}}`;
};

/** What one answer says: whether the expression holds now, and the samples that show it. */
export function judgePromqlAnswer(body: unknown): Look {
  const parsed = answerSchema.safeParse(body);
  if (!parsed.success) return { holds: false, detail: 'Prometheus answered something that is not a query result' };
  const answer = parsed.data;
  if (answer.status === 'error') return { holds: false, detail: `Prometheus refused the query: ${answer.errorType ?? 'error'}: ${(answer.error ?? '').slice(0, 300)}` };
  const { data } = answer;
  if (data.resultType === 'scalar') return { holds: truthy(data.result[1]), detail: `scalar ${data.result[1]}` };
  if (data.resultType !== 'vector') return { holds: false, detail: `the query gives a ${data.resultType}, not an instant vector or scalar` };
  if (data.result.length === 0) return { holds: false, detail: 'no sample (the expression does not hold, or nothing is scraped)' };
  const shown = data.result.slice(0, 5).map((s) => `${seriesName(s.metric)} ${s.value[1]}`);
  const more = data.result.length > 5 ? ` (+${data.result.length - 5} more)` : '';
  return { holds: data.result.every((s) => truthy(s.value[1])), detail: `${shown.join('; ')}${more}` };
}

export function createPrometheusActivities(config: PrometheusConfig | undefined) {
  const ask = async (query: string): Promise<Look> => {
    if (!config) throw new Error('unreachable');
    const url = new URL('api/v1/query', config.baseUrl.endsWith('/') ? config.baseUrl : `${config.baseUrl}/`);
    url.searchParams.set('query', query);
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(config.requestTimeoutMs ?? 10_000), headers: { accept: 'application/json' } });
    } catch (err) {
      return { holds: false, detail: `Prometheus not answering (${url.origin}): ${err instanceof Error ? err.message : String(err)}` };
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return { holds: false, detail: `Prometheus answered HTTP ${response.status} without JSON` };
    }
    const look = judgePromqlAnswer(body);
    return response.ok || !look.detail.startsWith('Prometheus refused') ? look : { ...look, detail: `HTTP ${response.status}: ${look.detail}` };
  };

  return {
    /** Polls the expression until it holds or the window ends; the last look says why not. */
    async checkPromql(input: PromqlCheckInput): Promise<PromqlCheck> {
      const checkedAt = () => new Date().toISOString();
      if (!config) return { holds: false, checkedAt: checkedAt(), detail: 'no Prometheus configured', unchecked: 'status check (PROMETHEUS_URL is not set on the worker)' };
      const deadline = Date.now() + input.windowMs;
      const interval = input.pollIntervalMs ?? 5_000;
      for (;;) {
        const look = await ask(input.query);
        heartbeat(look.detail);
        const left = deadline - Date.now();
        if (look.holds || left <= 0) return { holds: look.holds, checkedAt: checkedAt(), detail: look.detail };
        if (!(await rest(Math.min(interval, left), look.detail))) return { holds: false, checkedAt: checkedAt(), detail: look.detail };
      }
    },
  };
}

export type PrometheusActivities = ReturnType<typeof createPrometheusActivities>;
