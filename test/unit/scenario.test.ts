/** Scenario files of the simulated environment: every shipped one loads, a bad one says where it is wrong. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kafkaUserOf, listScenarios, loadScenario, parseScenario, ScenarioError } from '../../sim/scenario';

const minimal = { description: 'test', readiness: { status: 503, body: '' } };

describe('scenario files', () => {
  it('ships one scenario per situation of the runbook', async () => {
    expect(await listScenarios()).toEqual([
      'alpaca-406',
      'alpaca-406-two-replicas',
      'alpaca-auth',
      'api-errors',
      'flapping',
      'healthy',
      'kafka-auth',
      'kafka-metadata',
      'kafka-produce',
      'kafka-secret-missing',
      'quote-api-redis-auth',
      'quote-api-redis-oom',
      'quote-api-redis-readonly',
      'readyz-malformed',
      'readyz-missing',
      'unknown',
    ]);
  });

  it.each([
    ['alpaca-406', 'alpaca_406_second_connection'],
    ['alpaca-406-two-replicas', 'alpaca_406_second_connection'],
    ['alpaca-auth', 'alpaca_auth'],
    ['kafka-auth', 'kafka_auth'],
    ['kafka-metadata', 'kafka_metadata'],
    ['kafka-produce', 'kafka_produce'],
    ['kafka-secret-missing', 'kafka_auth'],
    ['unknown', 'unknown'],
    ['api-errors', 'alpaca_406_second_connection'],
    ['flapping', 'alpaca_406_second_connection'],
  ])('%s answers /readyz 503 with error_class %s', async (name, errorClass) => {
    const scenario = await loadScenario(name);
    expect(scenario.readiness).toMatchObject({ status: 503, body: { status: 'not_ready', error_class: errorClass } });
  });

  it('scenarios with secrets in their logs list them, so tests can prove they never leak', async () => {
    for (const name of ['alpaca-406', 'alpaca-auth', 'kafka-auth', 'readyz-malformed']) {
      expect((await loadScenario(name)).secretsInLogs.length, name).toBeGreaterThan(0);
    }
  });

  it('defaults describe the torghut-ws deployment of the runbook', () => {
    const scenario = parseScenario(minimal);
    expect(scenario).toMatchObject({
      namespace: 'torghut',
      deployment: { name: 'torghut-ws', replicas: 1, labels: { app: 'torghut-ws' } },
      container: 'torghut-ws',
      port: 8080,
      configMap: { data: { KAFKA_BOOTSTRAP: 'kafka-kafka-bootstrap.kafka:9092' } },
      secret: { name: 'torghut-ws', present: true },
      restartsUntilCured: 1,
    });
    expect(scenario.afterRestart).toBeUndefined();
  });

  it('the KafkaUser follows the Secret unless a scenario says otherwise', () => {
    expect(kafkaUserOf(parseScenario(minimal))).toMatchObject({ name: 'torghut-ws', state: 'ready', secret: 'torghut-ws', crdInstalled: true });
    expect(kafkaUserOf(parseScenario({ ...minimal, secret: { present: false } }))).toMatchObject({ state: 'not-ready', reason: 'TimeoutException' });
    expect(kafkaUserOf(parseScenario({ ...minimal, secret: { name: 'kafka-creds' }, kafkaUser: { state: 'absent' } }))).toMatchObject({ name: 'kafka-creds', state: 'absent' });
  });

  it('Kafka Secret missing shows it as Strimzi and the kubelet would: KafkaUser NotReady, a restarted pod that cannot start', async () => {
    const scenario = await loadScenario('kafka-secret-missing');
    expect(kafkaUserOf(scenario)).toMatchObject({ state: 'not-ready', reason: 'InvalidResourceException' });
    expect(scenario.secret.present).toBe(false);
    expect(scenario.afterRestart?.containerWaiting).toEqual({ reason: 'CreateContainerConfigError', message: 'secret "torghut-ws" not found' });
  });

  it('names the path of every bad field', () => {
    const bad = { ...minimal, deployment: { replicas: -1 }, readiness: { status: 'down' }, faults: { events: 200 }, typo: true };
    try {
      parseScenario(bad, 'bad.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ScenarioError);
      const message = (err as Error).message;
      expect(message).toContain('invalid scenario bad.yaml');
      for (const path of ['deployment.replicas', 'readiness', 'faults.events', '(root)']) expect(message).toContain(path);
    }
  });

  it('refuses a secretsInLogs entry that does not appear in the logs', () => {
    expect(() => parseScenario({ ...minimal, logs: ['password="abcdef123"'], secretsInLogs: ['zzzzzzzz'] })).toThrow(/secretsInLogs/);
  });

  it('reports unreadable and non-YAML files with their path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scenario-'));
    try {
      await expect(loadScenario(join(dir, 'absent.yaml'))).rejects.toThrow(/absent\.yaml[\s\S]*cannot read file/);
      const broken = join(dir, 'broken.yaml');
      await writeFile(broken, 'description: [unclosed\n');
      await expect(loadScenario(broken)).rejects.toThrow(/broken\.yaml[\s\S]*not valid YAML/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
