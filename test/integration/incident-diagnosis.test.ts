/**
 * The first half of an incident on a real Temporal dev server: every scenario of the runbook is
 * diagnosed read-only and classified; the `status` query exposes the whole state; degraded sources
 * are recorded instead of failing the incident; no secret reaches the state, nothing is written, and
 * no Secret is ever asked for: every request the API server sees is a read the shipped Role grants.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../sim/scenario';
import type { IncidentState, Phase } from '../../domain/incident';
import { incidentHarness, waitForPhase } from '../support/incident';
import { requestAttributes, roleAllows, shippedRoleRules } from '../support/kube-rbac';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

let ctx: TemporalTestContext;
beforeAll(async () => {
  ctx = await connectTemporal();
});
afterAll(async () => {
  await ctx?.close();
});

interface Case {
  scenario: string;
  class: string;
  procedure: string | null;
  phase: Phase;
  outcome?: string;
  basis?: string;
  degraded?: string[];
  evidence?: RegExp;
}

const cases: Case[] = [
  { scenario: 'alpaca-406', class: 'alpaca_406_second_connection', procedure: 'A', phase: 'awaiting-approval', basis: 'readiness+logs' },
  {
    scenario: 'alpaca-406-two-replicas',
    class: 'alpaca_406_second_connection',
    procedure: 'A',
    phase: 'awaiting-approval',
    evidence: /replicas=2 \(expected 1\)/,
  },
  { scenario: 'alpaca-auth', class: 'alpaca_auth', procedure: 'B', phase: 'awaiting-approval' },
  { scenario: 'kafka-auth', class: 'kafka_auth', procedure: 'C', phase: 'awaiting-approval', evidence: /KafkaUser torghut-ws Ready \(Secret torghut-ws, username torghut-ws\)/ },
  { scenario: 'kafka-metadata', class: 'kafka_metadata', procedure: 'C', phase: 'awaiting-approval' },
  { scenario: 'kafka-produce', class: 'kafka_produce', procedure: 'C', phase: 'awaiting-approval' },
  {
    scenario: 'kafka-secret-missing',
    class: 'kafka_auth',
    procedure: 'C',
    phase: 'awaiting-approval',
    evidence: /KafkaUser torghut-ws not Ready \(InvalidResourceException: Secret torghut-ws-password with requested user password does not exist\.\)/,
  },
  { scenario: 'unknown', class: 'unknown', procedure: null, phase: 'closed', outcome: 'needs-human' },
  { scenario: 'healthy', class: 'healthy', procedure: null, phase: 'closed', outcome: 'healthy-no-action' },
  { scenario: 'readyz-missing', class: 'alpaca_406_second_connection', procedure: 'A', phase: 'awaiting-approval', basis: 'logs' },
  { scenario: 'readyz-malformed', class: 'kafka_auth', procedure: 'C', phase: 'awaiting-approval', basis: 'logs' },
  {
    scenario: 'api-errors',
    class: 'alpaca_406_second_connection',
    procedure: 'A',
    phase: 'awaiting-approval',
    degraded: ['events', 'logs', 'kafkaCredentials'],
  },
];

describe('diagnosis and classification of a torghut-ws incident', () => {
  it.each(cases)('$scenario → $class (procedure $procedure), $phase', async (c) => {
    const harness = await incidentHarness(ctx, { scenario: c.scenario });
    try {
      const state: IncidentState = await harness.run(async () => {
        const handle = await harness.start();
        const reached = await waitForPhase(handle, [c.phase]);
        if (reached.phase !== 'closed') await handle.terminate('test done');
        return reached;
      });

      expect(state.classification?.class).toBe(c.class);
      expect(state.classification?.procedure).toBe(c.procedure);
      if (c.outcome) expect(state.outcome).toBe(c.outcome);
      if (c.basis) expect(state.classification?.basis).toBe(c.basis);
      if (c.evidence) expect(state.classification?.evidence.map((e) => e.text).join('\n')).toMatch(c.evidence);
      expect(state.diagnosis?.degraded.sort()).toEqual((c.degraded ?? []).sort());
      expect(state.diagnosis?.gitops?.ok).toBe(true);
      expect(state.alerts).toHaveLength(1);

      // Read-only: the diagnosis never wrote to the cluster or to Git.
      expect(harness.env.kube.writes()).toEqual([]);
      expect(harness.env.github.writes()).toEqual([]);
      // No Secret was asked for; everything that was asked for, the shipped Role grants.
      const api = harness.env.kube.requests.filter((r) => r.target === 'api');
      expect(api.filter((r) => r.path.includes('/secrets'))).toEqual([]);
      const rules = shippedRoleRules();
      for (const r of api) expect(roleAllows(rules, requestAttributes(r.method, r.path, r.query)!), `${r.method} ${r.path}`).toBe(true);

      // No secret of the scenario reaches the state the query and the history carry.
      const scenario = await loadScenario(c.scenario);
      const serialized = JSON.stringify(state);
      for (const secret of scenario.secretsInLogs) expect(serialized).not.toContain(secret);
    } finally {
      await harness.close();
    }
  });

  it('drift between Git and the cluster (replicas, KAFKA_BOOTSTRAP) is reported as evidence', async () => {
    const harness = await incidentHarness(ctx, {
      scenario: 'kafka-auth',
      git: { replicas: 2, kafkaBootstrap: 'kafka-old-bootstrap.kafka:9092' },
    });
    try {
      const state = await harness.run(async () => {
        const handle = await harness.start();
        const reached = await waitForPhase(handle, ['awaiting-approval']);
        await handle.terminate('test done');
        return reached;
      });
      expect(state.diagnosis?.gitops).toMatchObject({
        ok: true,
        value: { replicas: 2, kafkaBootstrap: 'kafka-old-bootstrap.kafka:9092', liveKafkaBootstrap: 'kafka-kafka-bootstrap.kafka:9092' },
      });
      const evidence = state.classification!.evidence.filter((e) => e.source === 'gitops').map((e) => e.text);
      expect(evidence).toEqual([
        'drift: GitOps deployment.yaml has replicas=2, the live Deployment has replicas=1',
        'drift: GitOps configmap.yaml has KAFKA_BOOTSTRAP=kafka-old-bootstrap.kafka:9092, the live ConfigMap has kafka-kafka-bootstrap.kafka:9092',
      ]);
    } finally {
      await harness.close();
    }
  });

  it('a second alert for the open incident attaches to it instead of starting another', async () => {
    const harness = await incidentHarness(ctx, { scenario: 'alpaca-406' });
    try {
      await harness.run(async () => {
        const first = await harness.start();
        await waitForPhase(first, ['awaiting-approval']);
        const second = await harness.start({ alertname: 'TorghutWsNotReady' });
        const state = await waitForPhase(second, ['awaiting-approval']);
        expect(second.workflowId).toBe(first.workflowId);
        expect((await second.describe()).runId).toBe((await first.describe()).runId);
        expect(state.alerts.filter((a) => a.status === 'firing')).toHaveLength(2);
        await first.terminate('test done');
      });
    } finally {
      await harness.close();
    }
  });
});
