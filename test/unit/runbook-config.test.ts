/** The runbook as data: the shipped torghut-ws config is valid; a bad file names every problem. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RUNBOOK_PATH, loadRunbookConfig, loadRunbookConfigs } from '../../config/load-runbook';
import { incidentWorkflowId } from '../../domain/incident';
import { parseRunbookConfig, RunbookConfigError } from '../../domain/runbook-config';

interface ShippedDocument {
  target: { health: Record<string, unknown> } & Record<string, unknown>;
  gitops: Record<string, unknown>;
  [key: string]: unknown;
}
const shipped = parse(readFileSync(DEFAULT_RUNBOOK_PATH, 'utf8')) as ShippedDocument;

function issuesOf(document: unknown): Array<{ path: string; message: string }> {
  try {
    parseRunbookConfig(document, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(RunbookConfigError);
    return (err as RunbookConfigError).issues;
  }
  throw new Error('expected the config to be refused');
}

describe('runbook config', () => {
  it('the shipped torghut-ws runbook carries the runbook facts', async () => {
    const config = await loadRunbookConfig();
    expect(config.target).toMatchObject({
      namespace: 'torghut',
      deployment: 'torghut-ws',
      expectedReplicas: 1,
      health: { port: 8080, livenessPath: '/healthz', readinessPath: '/readyz' },
    });
    expect(config.gitops.deploymentPath).toBe('argocd/applications/torghut/ws/deployment.yaml');
    expect(config.gitops.configMapPath).toBe('argocd/applications/torghut/ws/configmap.yaml');
    expect(config.emergency.directRestartEnabled).toBe(false);
    expect(config.timeouts.approval).toBe('30 minutes');
    expect(incidentWorkflowId(config.target)).toBe('agentruns-torghut-ws-torghut');
    expect(incidentWorkflowId(config.target, { dryRun: true })).toBe('agentruns-torghut-ws-torghut-dry-run');
  });

  it('defaults fill what a minimal file leaves out', () => {
    const { timeouts: _t, diagnosis: _d, emergency: _e, alerts: _a, slack: _s, argo: _g, ...minimal } = shipped;
    const config = parseRunbookConfig(minimal);
    expect(config.timeouts).toEqual({ approval: '30 minutes', verification: '10 minutes', cooldown: '1 hour' });
    expect(config.diagnosis.logTailLines).toBe(200);
    expect(config.emergency.directRestartEnabled).toBe(false);
    expect(config.argo).toBeUndefined();
  });

  it('the KafkaUser of procedure C defaults to the kafkaSecret name (Strimzi names the Secret after it)', () => {
    const { kafkaUser: _k, ...older } = shipped.target;
    expect(parseRunbookConfig({ ...shipped, target: older }).target).toMatchObject({ kafkaSecret: 'torghut-ws', kafkaUser: 'torghut-ws' });
    expect(parseRunbookConfig({ ...shipped, target: { ...older, kafkaUser: 'torghut-ws-producer' } }).target.kafkaUser).toBe('torghut-ws-producer');
    expect(issuesOf({ ...shipped, target: { ...older, kafkaUser: 'Torghut_WS' } })).toContainEqual({ path: 'target.kafkaUser', message: expect.stringContaining('Kubernetes name') as string });
  });

  it('every problem is named with its path and reason', () => {
    const issues = issuesOf({
      ...shipped,
      id: 'Torghut WS',
      target: { ...shipped.target, expectedReplicas: 0, health: { ...shipped.target.health, port: 70000 } },
      gitops: { ...shipped.gitops, deploymentPath: '../etc/passwd' },
      approvers: [],
      timeouts: { approval: 'soon', cooldown: '0s' },
      surprise: true,
    });
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath).toMatchObject({
      id: expect.stringMatching(/Kubernetes name/),
      'target.expectedReplicas': expect.stringMatching(/>=\s*1/),
      'target.health.port': expect.stringMatching(/<=\s*65535/),
      'gitops.deploymentPath': expect.stringMatching(/relative to the repository root/),
      approvers: expect.stringMatching(/at least one approver/),
      'timeouts.approval': expect.stringMatching(/expected a duration/),
      'timeouts.cooldown': expect.stringMatching(/longer than zero/),
      '': expect.stringMatching(/surprise/),
    });
  });

  it('a file that is not YAML or cannot be read is refused with its path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'id: [unclosed\n');
    await expect(loadRunbookConfig(bad)).rejects.toThrow(new RegExp(`invalid runbook config ${bad}:\\n  - \\(root\\): not valid YAML`));
    await expect(loadRunbookConfig(join(dir, 'missing.yaml'))).rejects.toThrow(/cannot read file/);
  });

  it('a directory of runbooks is loaded whole; two runbooks naming one Deployment are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbooks-'));
    writeFileSync(join(dir, 'torghut-ws.yaml'), readFileSync(DEFAULT_RUNBOOK_PATH, 'utf8'));
    writeFileSync(join(dir, 'other.yaml'), stringify({ ...shipped, id: 'other-ws', target: { ...shipped.target, deployment: 'other-ws' } }));
    writeFileSync(join(dir, 'README.md'), '# not a runbook');
    const runbooks = await loadRunbookConfigs(dir);
    expect(runbooks.map((r) => r.id)).toEqual(['other-ws', 'torghut-ws']);

    // Another id, the same Deployment: its incidents would share one workflow ID.
    writeFileSync(join(dir, 'copy.yml'), stringify({ ...shipped, id: 'torghut-ws-copy' }));
    await expect(loadRunbookConfigs(dir)).rejects.toThrow(
      /names the same Deployment as .*copy\.yml \(incident agentruns-torghut-ws-torghut\): one runbook per target/,
    );
    await expect(loadRunbookConfigs(mkdtempSync(join(tmpdir(), 'empty-')))).rejects.toThrow(/holds no runbook/);
  });
});
