/**
 * Evidence for the human prerequisite, on a real Temporal dev server against the simulated torghut
 * environment: before the approval of procedure B the incident shows whether sealed-secrets.yaml
 * changed in Git since the failure began (commit, author, time); before procedure C, KAFKA_BOOTSTRAP
 * in Git, in the live ConfigMap and as the runbook expects it, the mismatch called out — in the
 * `status` state and in the Slack approval message. A source that fails is recorded with its reason;
 * the human still decides.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../control/incidents';
import type { IncidentState } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { TORGHUT_SEALED_SECRETS_PATH } from '../../sim/github';
import { loadScenario } from '../../sim/scenario';
import { incidentHarness, pinned, waitForPhase, type IncidentHarness } from '../support/incident';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

let ctx: TemporalTestContext;
beforeAll(async () => {
  ctx = await connectTemporal();
});
afterAll(async () => {
  await ctx?.close();
});

const fastRunbook = (r: RunbookConfig): RunbookConfig => ({
  ...r,
  timeouts: { ...r.timeouts, approval: '1 minute', verification: '20 seconds' },
  argo: { enabled: true, application: 'torghut', syncTimeout: '30 seconds' },
});

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Runs the incident up to its approval request, lets `look` inspect it, then rejects it. */
async function atApproval(
  options: Partial<Parameters<typeof incidentHarness>[1]> & { startsAt?: string; before?: (h: IncidentHarness) => Promise<void> },
  look: (waiting: IncidentState, slackText: string, h: IncidentHarness) => void,
): Promise<IncidentState> {
  const { startsAt, before, ...harnessOptions } = options;
  const h = await incidentHarness(ctx, { adjust: fastRunbook, ...harnessOptions, scenario: harnessOptions.scenario ?? 'alpaca-auth' });
  try {
    await before?.(h);
    return await h.run(async () => {
      const handle: WorkflowHandle = await h.start(startsAt ? { startsAt } : {});
      const waiting = await waitForPhase(handle, ['awaiting-approval']);
      const message = await h.env.slack.waitFor(() => h.env.slack.incidentMessages(waiting.workflowId, waiting.runId)[0]);
      look(waiting, JSON.stringify(message.blocks), h);
      await decide(ctx.client, handle.workflowId, 'reject', await pinned(handle, { by: 'oncall-alice' }));
      return (await handle.result()) as IncidentState;
    });
  } finally {
    await h.close();
  }
}

describe('procedure B: did the sealed credentials change in Git since the failure began?', () => {
  it('Alpaca 401 with a rotation committed after the alert started → the commit, its author and time in the state and the Slack message; the human still confirms', async () => {
    const startsAt = minutesAgo(20);
    const rotatedAt = minutesAgo(5);
    let rotation = '';
    const final = await atApproval(
      {
        startsAt,
        before: async (h) => {
          // A rotation before the failure began (not shown) and one after it (shown).
          await h.env.github.commitFile({ branch: 'main', path: TORGHUT_SEALED_SECRETS_PATH, content: 'kind: SealedSecret # old\n', message: 'Seal Alpaca key v1', by: { name: 'Dave', email: 'dave@example.com' }, date: minutesAgo(90) });
          rotation = await h.env.github.commitFile({ branch: 'main', path: TORGHUT_SEALED_SECRETS_PATH, content: 'kind: SealedSecret # rotated\n', message: 'Rotate Alpaca key (sealed)\n\nticket OPS-42', by: { name: 'Carol', email: 'carol@example.com' }, date: rotatedAt });
          // Another file changing after the alert is not the credentials.
          await h.env.github.commitFile({ branch: 'main', path: 'README.md', content: 'docs\n', message: 'Docs', date: minutesAgo(4) });
        },
      },
      (waiting, slack) => {
        expect(waiting.classification?.procedure).toBe('B');
        expect(waiting.prerequisiteEvidence).toMatchObject({
          procedure: 'B',
          sealedSecrets: {
            ok: true,
            value: {
              path: TORGHUT_SEALED_SECRETS_PATH,
              branch: 'main',
              since: new Date(startsAt).toISOString(),
              sinceFrom: "the alert's startsAt",
              commits: [{ sha: rotation, author: 'Carol', at: rotatedAt, subject: 'Rotate Alpaca key (sealed)' }],
              truncated: false,
            },
          },
        });
        expect(slack).toContain('Evidence for the prerequisite* (procedure B; you still confirm it)');
        expect(slack).toContain(`${rotation.slice(0, 7)} by Carol at ${rotatedAt}: Rotate Alpaca key (sealed)`);
        // The human still confirms: the Approve button is the prerequisite's.
        expect(slack).toContain('Prerequisite done, approve');
      },
    );
    expect(final.outcome).toBe('rejected');
  });

  it('no rotation in Git yet → says so plainly', async () => {
    await atApproval({ startsAt: minutesAgo(10) }, (waiting, slack) => {
      expect(waiting.prerequisiteEvidence?.sealedSecrets).toMatchObject({ ok: true, value: { commits: [] } });
      expect(slack).toContain(`${TORGHUT_SEALED_SECRETS_PATH} has NOT changed on main since`);
      expect(slack).toContain('the credential rotation is not in Git yet');
    });
  });

  it('GitHub refuses the commit list → the reason is recorded and the incident still asks for the decision', async () => {
    await atApproval(
      { before: (h) => Promise.resolve(h.env.github.failNext({ method: 'GET', path: /\/commits$/, status: 403, message: 'Resource not accessible by integration', times: 10 })) },
      (waiting, slack) => {
        const evidence = waiting.prerequisiteEvidence?.sealedSecrets;
        expect(evidence?.ok).toBe(false);
        expect(evidence && !evidence.ok ? evidence.error : '').toMatch(/list commits of argocd\/applications\/torghut\/sealed-secrets\.yaml on main since \S+: not allowed \(403\)/);
        expect(slack).toContain('Sealed credentials in Git: not checked');
        expect(waiting.phase).toBe('awaiting-approval');
      },
    );
  });
});

describe('procedure C: KAFKA_BOOTSTRAP in Git, live, and as the runbook expects it', () => {
  it('Kafka metadata failure, the live ConfigMap drifted from Git → the three values side by side, the mismatch called out', async () => {
    await atApproval({ scenario: 'kafka-metadata' }, (waiting, slack) => {
      expect(waiting.classification?.procedure).toBe('C');
      expect(waiting.prerequisiteEvidence?.kafkaBootstrap).toEqual({
        git: { ok: true, value: 'kafka-kafka-bootstrap.kafka:9092', path: 'argocd/applications/torghut/ws/configmap.yaml' },
        live: { ok: true, value: 'kafka-kafka-bootstrap.kafka:9093', configMap: 'torghut-ws' },
        expected: 'kafka-kafka-bootstrap.kafka:9092',
        mismatches: [
          'KAFKA_BOOTSTRAP differs: Git has kafka-kafka-bootstrap.kafka:9092, the live ConfigMap has kafka-kafka-bootstrap.kafka:9093',
          'KAFKA_BOOTSTRAP differs: the live ConfigMap has kafka-kafka-bootstrap.kafka:9093, the runbook has kafka-kafka-bootstrap.kafka:9092',
        ],
      });
      expect(slack).toContain('KAFKA_BOOTSTRAP — Git: kafka-kafka-bootstrap.kafka:9092; live ConfigMap: kafka-kafka-bootstrap.kafka:9093; runbook expects: kafka-kafka-bootstrap.kafka:9092');
      expect(slack).toContain('MISMATCH: KAFKA_BOOTSTRAP differs: Git has kafka-kafka-bootstrap.kafka:9092, the live ConfigMap has kafka-kafka-bootstrap.kafka:9093');
    });
  });

  it('a wrong bootstrap in Git, live as the runbook expects → Git is the odd one out', async () => {
    const scenario = await loadScenario('kafka-metadata');
    scenario.configMap.data = { ...scenario.configMap.data, KAFKA_BOOTSTRAP: 'kafka-kafka-bootstrap.kafka:9092' };
    await atApproval({ scenario, git: { kafkaBootstrap: 'kafka-bootstrap.wrong:9092' } }, (waiting) => {
      expect(waiting.prerequisiteEvidence?.kafkaBootstrap?.mismatches).toEqual([
        'KAFKA_BOOTSTRAP differs: Git has kafka-bootstrap.wrong:9092, the live ConfigMap has kafka-kafka-bootstrap.kafka:9092',
        'KAFKA_BOOTSTRAP differs: Git has kafka-bootstrap.wrong:9092, the runbook has kafka-kafka-bootstrap.kafka:9092',
      ]);
    });
  });

  it('the live ConfigMap cannot be read → Git and the runbook still shown, the live side with its reason', async () => {
    const scenario = await loadScenario('kafka-metadata');
    scenario.faults.configmap = 403;
    await atApproval({ scenario }, (waiting, slack) => {
      const kafka = waiting.prerequisiteEvidence?.kafkaBootstrap;
      expect(kafka?.git).toEqual({ ok: true, value: 'kafka-kafka-bootstrap.kafka:9092', path: 'argocd/applications/torghut/ws/configmap.yaml' });
      expect(kafka?.live.ok).toBe(false);
      expect(kafka?.mismatches).toEqual([]);
      expect(slack).toMatch(/live ConfigMap: unknown \([^)]*403/);
    });
  });
});
