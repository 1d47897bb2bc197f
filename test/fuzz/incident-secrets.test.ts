/**
 * Redaction end to end, checked where it matters: real incidents on the real Temporal dev server
 * whose pod logs, `/readyz` body and alert annotations carry generated secrets (the corpus of
 * test/fuzz/support/secret-corpus.ts), driven to their outcome (approved and restarted where the
 * procedure allows), and then everything the product wrote is scanned for any piece of them: the
 * whole workflow history (start input, signals, Update arguments, every activity's input and result,
 * memo, current details), the `status` query, the incident report in each format, the PR's title,
 * body and comments, the restart commit, every Slack message and reply, and every line printed by
 * this process (worker, activities, clients).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decide, openIncident } from '../../control/incidents';
import type { IncidentState } from '../../domain/incident';
import { incidentReport, reportMarkdown, reportSlack, reportText } from '../../domain/report';
import { loadScenario, parseScenario, type Scenario } from '../../sim/scenario';
import { statusQuery } from '../../workflows/messages';
import { incidentHarness, pinned, waitForPhase } from '../support/incident';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';
import { fuzzCount, fuzzParams } from './support/fuzz-runs';
import { annotationsWithSecret, leaks, readinessBodyWithSecret, secretLines } from './support/secret-corpus';

let ctx: TemporalTestContext;
beforeAll(async () => {
  ctx = await connectTemporal();
});
afterAll(async () => {
  await ctx?.close();
});

interface HostileIncident {
  kind: string;
  scenario: Scenario;
  annotations: Record<string, string>;
  secrets: string[];
}

/** A 406 scenario whose readiness body, log tail and alert carry generated secrets. */
function hostileIncidents(base: Scenario, count: number): HostileIncident[] {
  const arbitrary = fc.tuple(readinessBodyWithSecret, fc.array(secretLines, { minLength: 1, maxLength: 4 }), annotationsWithSecret);
  return fc.sample(arbitrary, { seed: fuzzParams().seed!, numRuns: count }).map(([body, lines, alert]) => {
    const { secretsInLogs: _listed, ...rest } = base;
    const logs = [...base.logs.slice(0, -2), ...lines.flatMap((c) => c.lines), ...base.logs.slice(-2)];
    return {
      kind: `${body.kind}; ${lines.map((c) => c.kind).join(', ')}; ${alert.kind}`,
      scenario: parseScenario({ ...rest, readiness: { status: 503, body: body.body }, logs }, 'hostile'),
      annotations: alert.annotations,
      secrets: [...body.secrets, ...lines.flatMap((c) => c.secrets), ...alert.secrets],
    };
  });
}

/**
 * The history as text with every payload decoded: Temporal stores each input, result, memo and
 * detail as a payload whose `data` is base64 in the history's JSON, so scanning the JSON as it is
 * would find nothing.
 */
function historyText(history: unknown): string {
  const decode = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(decode);
    if (typeof value !== 'object' || value === null) return value;
    const record = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(record)) {
      out[key] = key === 'data' && typeof inner === 'string' && 'metadata' in record ? Buffer.from(inner, 'base64').toString('utf8') : decode(inner);
    }
    return out;
  };
  return JSON.stringify(decode(JSON.parse(JSON.stringify(history))));
}

/** Everything printed by this process while `fn` runs (console and the process streams). */
async function capturingOutput<T>(fn: () => Promise<T>): Promise<{ result: T; printed: string }> {
  const chunks: string[] = [];
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void chunks.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '))),
  );
  const writes = [process.stdout, process.stderr].map((stream) => {
    const write = stream.write.bind(stream);
    return vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }));
  });
  try {
    return { result: await fn(), printed: chunks.join('\n') };
  } finally {
    for (const spy of [...spies, ...writes]) spy.mockRestore();
  }
}

describe('no secret from logs, readiness or the alert reaches the history, the query, the report, GitHub, Slack or a log line', () => {
  it('real incidents with secrets everywhere they are read, driven to their outcome, scanned whole', async () => {
    const base = await loadScenario('alpaca-406');
    const cases = hostileIncidents(base, fuzzCount({ scale: 0.02, min: 3, max: 40 }));
    const outcomes: Record<string, number> = {};
    for (const c of cases) {
      const h = await incidentHarness(ctx, {
        scenario: c.scenario,
        adjust: (r) => ({ ...r, gitops: { ...r.gitops, merge: 'auto' }, timeouts: { ...r.timeouts, approval: '1 minute', verification: '20 seconds' } }),
      });
      try {
        const { result: state, printed } = await capturingOutput(() =>
          h.run(async () => {
            const opened = await openIncident({ client: ctx.client, taskQueue: h.taskQueue }, h.runbook, {
              source: 'alertmanager',
              alert: {
                alertname: 'TorghutWsNotReady',
                fingerprint: 'f00dfeed00000001',
                labels: { alertname: 'TorghutWsNotReady', namespace: h.runbook.target.namespace },
                annotations: c.annotations,
              },
            });
            const handle = ctx.client.workflow.getHandle(opened.workflowId, opened.runId);
            const waiting = await waitForPhase(handle, ['awaiting-approval', 'closed']);
            if (waiting.phase === 'awaiting-approval') {
              const confirm = waiting.classification?.procedure === 'B' || waiting.classification?.procedure === 'C';
              await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice', ...(confirm ? { prerequisiteConfirmed: true } : {}) }));
            }
            const final = (await handle.result()) as IncidentState;
            const history = await handle.fetchHistory();
            const queried = await handle.query(statusQuery);
            const report = incidentReport(history, final);
            return { final, texts: [historyText(history), JSON.stringify(queried), JSON.stringify(report), reportText(report), reportMarkdown(report), reportSlack(report)] };
          }),
        );
        const { final, texts } = state;
        outcomes[final.outcome ?? 'none'] = (outcomes[final.outcome ?? 'none'] ?? 0) + 1;
        // The incident read what it was given: the classifier saw the body (its class is not unknown).
        expect(final.classification?.class, c.kind).not.toBe('unknown');

        const github = JSON.stringify({ pulls: h.env.github.pulls(), comments: h.env.github.comments() });
        const branches = await h.env.github.branches(`agentruns/${final.workflowId}/`);
        const commits = JSON.stringify(await Promise.all(branches.map((b) => h.env.github.commits(b))));
        const slack = JSON.stringify({ messages: h.env.slack.messages, ephemerals: h.env.slack.ephemerals, responses: h.env.slack.responses });
        const scanned = { history: texts[0]!, query: texts[1]!, report: texts.slice(2).join('\n'), github: github + commits, slack, printed };
        for (const [where, text] of Object.entries(scanned)) expect(leaks(text, c.secrets), `${where}: ${c.kind}`).toEqual([]);
        // The scan is not vacuous: the places it read hold the incident's story.
        expect(scanned.history).toContain('TorghutWsNotReady');
        expect(scanned.history).toContain('torghut-ws /readyz 503 for 5 minutes');
        expect(scanned.history).toContain('[REDACTED]');
        expect(scanned.slack).toContain(h.runbook.target.deployment);
      } finally {
        await h.close();
      }
    }
    console.log(`[fuzz] ${cases.length} incidents with secrets in readiness, logs and the alert: outcomes ${JSON.stringify(outcomes)}; nothing leaked`);
    // At least one went all the way through the PR and the restart.
    expect(outcomes.remediated ?? 0).toBeGreaterThan(0);
  });
});
