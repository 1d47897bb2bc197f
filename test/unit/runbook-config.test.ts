/** The runbook as data: the shipped torghut-ws config is valid; a bad file names every problem. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RUNBOOK_PATH, loadRunbookConfig, loadRunbookConfigs } from '../../config/load-runbook';
import { incidentWorkflowId } from '../../domain/incident';
import { parseRunbookConfig, RunbookConfigError } from '../../domain/runbook-config';
import { unsafePatternReason } from '../../domain/safe-pattern';

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
    expect(config.timeouts).toEqual({ approval: '30 minutes', verification: '10 minutes', cooldown: '1 hour', resendHold: '6 hours' });
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
      timeouts: { approval: 'soon', cooldown: '0s', resendHold: 'never' },
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
      'timeouts.resendHold': expect.stringMatching(/expected a duration .*, or 'off'/),
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

  it('the shipped runbooks declare their failure knowledge: torghut-ws its five classes, quote-api its own', async () => {
    const torghut = await loadRunbookConfig();
    expect(torghut.failures?.precedence).toEqual(['alpaca_auth', 'kafka_auth', 'kafka_metadata', 'kafka_produce', 'alpaca_406_second_connection', 'unknown']);
    expect(torghut.failures?.classes.alpaca_auth?.procedure).toMatchObject({ id: 'B', restart: 'needs-prerequisite' });
    const quote = await loadRunbookConfig(join(DEFAULT_RUNBOOK_PATH, '..', 'quote-api.yaml'));
    expect(quote.failures?.readiness).toMatchObject({ classField: 'failure.kind', gatesField: 'checks' });
    expect(Object.fromEntries(Object.entries(quote.failures?.classes ?? {}).map(([c, spec]) => [c, spec.procedure.restart]))).toEqual({
      redis_readonly: 'allowed',
      redis_auth: 'needs-prerequisite',
      redis_oom: 'forbidden',
      unknown: 'forbidden',
    });
  });

  it('every problem of the failure knowledge is named with its path', () => {
    const failures = structuredClone(shipped.failures) as {
      precedence: string[];
      classes: Record<string, { procedure: Record<string, unknown>; gates?: string[] }>;
      signatures: Array<Record<string, unknown>>;
      readiness: Record<string, unknown>;
    };
    failures.precedence = ['alpaca_auth', 'alpaca_auth', 'kafka_authz', 'kafka_auth', 'kafka_metadata', 'kafka_produce', 'unknown'];
    failures.classes.alpaca_auth!.procedure = { id: 'B', restart: 'needs-prerequisite', action: 'rotate' };
    failures.classes.unknown!.procedure = { restart: 'allowed', id: 'X', action: 'restart anyway' };
    failures.classes.kafka_auth!.gates = ['kafka', 'zookeeper'];
    failures.readiness.classField = 'error class';
    failures.signatures.push(
      { label: 'fine', class: 'kafka_auth', any: [{ text: 'a' }] },
      { label: 'fine', class: 'kafka_auth', any: [{ text: 'b' }] },
      { label: 'fine', class: 'kafka_auth', any: [{ text: 'c' }] },
      { label: 'lost', class: 'kafka_lost', any: [{ context: 'zookeeper' }] },
      { codes: 'binance', in: 'frame' },
    );
    const byPath = Object.fromEntries(issuesOf({ ...shipped, failures }).map((i) => [i.path, i.message]));
    expect(byPath).toMatchObject({
      'failures.readiness.classField': expect.stringMatching(/dotted field path/),
    });
    failures.readiness.classField = 'error_class';
    const refs = Object.fromEntries(issuesOf({ ...shipped, failures }).map((i) => [i.path, i.message]));
    expect(refs).toMatchObject({
      'failures.precedence.1': 'alpaca_auth is listed twice',
      'failures.precedence.2': 'class kafka_authz is not declared under failures.classes',
      'failures.precedence': 'class alpaca_406_second_connection is missing from the precedence',
      'failures.classes.alpaca_auth.procedure.prerequisite': expect.stringMatching(/must say what the human confirms/),
      'failures.classes.unknown.procedure.restart': 'unknown is never restarted: restart must be forbidden',
      'failures.classes.kafka_auth.gates.1': 'gate zookeeper is not declared under failures.readiness.gates',
      'failures.signatures.21.codes': 'error codes binance are not declared under failures.errorCodes',
      'failures.signatures.20.class': 'class kafka_lost is not declared under failures.classes',
      'failures.signatures.20.any.0.context': 'context zookeeper is not declared under failures.contexts',
    });
    // Risky patterns are refused before anything is compiled, each saying why: on their own, they
    // are the only problems reported.
    const risky = structuredClone(shipped.failures) as { signatures: Array<Record<string, unknown>> };
    risky.signatures.push(
      { label: 'nested', class: 'kafka_auth', any: [{ regex: '(a+)+$' }] },
      { label: 'greedy', class: 'kafka_auth', any: [{ regex: 'failed.*auth' }] },
      { label: 'echo', class: 'kafka_auth', any: [{ regex: '(x)\\1' }] },
    );
    const patterns = Object.fromEntries(issuesOf({ ...shipped, failures: risky }).map((i) => [i.path, i.message]));
    expect(patterns).toEqual({
      'failures.signatures.17.any.0.regex': expect.stringMatching(/^regex refused: unbounded quantifier "\+"/),
      'failures.signatures.18.any.0.regex': expect.stringMatching(/^regex refused: unbounded quantifier "\*"/),
      'failures.signatures.19.any.0.regex': expect.stringMatching(/^regex refused: backreference/),
    });
  });
});

describe('regular expressions in a runbook', () => {
  it.each([
    ['(a+)+$', /unbounded quantifier "\+"/],
    ['(x|x)*y', /unbounded quantifier "\*"/],
    ['a{2,}b', /unbounded quantifier "\{2,\}"/],
    ['(?:ab){1,50}', /only "\?" may follow a group/],
    ['a{1,5000}', /exceeds 1000/],
    ['x.{0,200}y.{0,200}z.{0,200}w', /more than 2 quantifier ranges/],
    ['(?=secret)', /lookaround/],
    ['(?<!a)b', /lookaround/],
    ['(a)\\1', /backreference/],
    ['(?<n>a)\\k<n>', /named backreference/],
    ['[unclosed', /not a valid regular expression/],
    ['x'.repeat(301), /longer than 300/],
  ])('%s is refused', (pattern, why) => {
    expect(unsafePatternReason(pattern)).toMatch(why);
  });

  it.each([
    'not present in metadata after \\d{1,12}\\s{0,10}ms',
    "couldn't resolve server .{0,200}bootstrap\\.servers",
    'expected (?:http )?(?:status (?:code )?)?101',
    '[*+]{1,3}',
    '\\*\\+',
  ])('%s is accepted', (pattern) => {
    expect(unsafePatternReason(pattern)).toBeNull();
  });
});
