/**
 * Procedure C's credentials check without Secret access: the Strimzi KafkaUser's status as Strimzi
 * writes it, a 404 told apart from a missing CRD, and the kubelet's reports of a missing Secret.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { missingSecretsOfPod } from '../../activities/kubernetes';
import type { EventFact } from '../../domain/diagnosis';
import { kafkaCredentialFindings, kafkaUserFacts, kafkaUserNotFound, missingSecretOfEvent, secretNotFoundIn } from '../../domain/kafka-credentials';

/** A KafkaUser as Strimzi's User Operator leaves it (kafka.strimzi.io/v1beta2). */
function kafkaUser(status: Record<string, unknown> | undefined): unknown {
  return {
    apiVersion: 'kafka.strimzi.io/v1beta2',
    kind: 'KafkaUser',
    metadata: { name: 'torghut-ws', namespace: 'torghut', generation: 3, labels: { 'strimzi.io/cluster': 'kafka' } },
    spec: { authentication: { type: 'scram-sha-512' } },
    ...(status ? { status } : {}),
  };
}

describe('the KafkaUser status', () => {
  it('Ready: found, Ready=True, the Secret Strimzi created and the user name', () => {
    const facts = kafkaUserFacts(
      'torghut-ws',
      kafkaUser({
        observedGeneration: 3,
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-02-01T08:00:00.118Z' }],
        username: 'torghut-ws',
        secret: 'torghut-ws',
      }),
    );
    expect(facts).toEqual({ name: 'torghut-ws', found: true, ready: 'True', secret: 'torghut-ws', username: 'torghut-ws' });
  });

  it('NotReady=True (Strimzi\'s failed reconciliation): Ready=False with the exception as reason and message, no Secret', () => {
    const facts = kafkaUserFacts(
      'torghut-ws',
      kafkaUser({
        observedGeneration: 3,
        conditions: [
          {
            type: 'NotReady',
            status: 'True',
            reason: 'InvalidResourceException',
            message: 'Secret torghut-ws-password with requested user password does not exist.',
            lastTransitionTime: '2026-02-09T13:30:00.002Z',
          },
        ],
        username: 'torghut-ws',
      }),
    );
    expect(facts).toEqual({
      name: 'torghut-ws',
      found: true,
      ready: 'False',
      reason: 'InvalidResourceException',
      message: 'Secret torghut-ws-password with requested user password does not exist.',
      username: 'torghut-ws',
    });
  });

  it('Ready=False (the usual Kubernetes form) is read the same way', () => {
    const facts = kafkaUserFacts('torghut-ws', kafkaUser({ conditions: [{ type: 'Ready', status: 'False', reason: 'KafkaException', message: 'broker down' }] }));
    expect(facts).toMatchObject({ ready: 'False', reason: 'KafkaException', message: 'broker down' });
  });

  it('not reconciled yet (no status, or no Ready condition): Ready=Unknown', () => {
    expect(kafkaUserFacts('torghut-ws', kafkaUser(undefined))).toEqual({ name: 'torghut-ws', found: true, ready: 'Unknown' });
    expect(kafkaUserFacts('torghut-ws', kafkaUser({ conditions: [{ type: 'ReconciliationPaused', status: 'True' }] }))).toMatchObject({ ready: 'Unknown' });
  });

  it('a status that is not Strimzi\'s shape is Unknown, not a crash', () => {
    expect(kafkaUserFacts('torghut-ws', kafkaUser({ conditions: 'Ready' }))).toMatchObject({ found: true, ready: 'Unknown', reason: 'UnreadableStatus' });
    expect(kafkaUserFacts('torghut-ws', 'not an object')).toMatchObject({ ready: 'Unknown', reason: 'UnreadableStatus' });
  });

  it('a condition message quoting a credential is redacted', () => {
    const message = 'SASL config sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="torghut-ws" password="Zk8vQ2mX7pLr4TnW9sYb"; rejected';
    const facts = kafkaUserFacts('torghut-ws', kafkaUser({ conditions: [{ type: 'NotReady', status: 'True', reason: 'KafkaException', message }] }));
    expect(JSON.stringify(facts)).not.toContain('Zk8vQ2mX7pLr4TnW9sYb');
    expect(facts.message).toContain('[REDACTED]');
  });
});

describe('a 404 on the KafkaUser', () => {
  it('naming the KafkaUser (the CRD is installed, the object is not there): absent', () => {
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'kafkausers.kafka.strimzi.io "torghut-ws" not found',
      reason: 'NotFound',
      details: { name: 'torghut-ws', group: 'kafka.strimzi.io', kind: 'kafkausers' },
      code: 404,
    });
    expect(kafkaUserNotFound(body, 'torghut-ws')).toBe('absent');
  });

  it('without a name (Strimzi not installed: the resource is not served at all): not served', () => {
    const body = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 };
    expect(kafkaUserNotFound(body, 'torghut-ws')).toBe('not-served');
    expect(kafkaUserNotFound('404 page not found\n', 'torghut-ws')).toBe('not-served');
    expect(kafkaUserNotFound(undefined, 'torghut-ws')).toBe('not-served');
  });
});

/** A pod as the kubelet reports it, with the forwarder container in the given state. */
function pod(state: Record<string, unknown>, init?: Record<string, unknown>): V1Pod {
  return {
    metadata: { name: 'torghut-ws-5c7d9f8b6d-k4k2m', namespace: 'torghut' },
    status: {
      phase: 'Pending',
      ...(init ? { initContainerStatuses: [{ name: 'wait-for-kafka', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: init }] } : {}),
      containerStatuses: [{ name: 'torghut-ws', image: 'torghut-ws:0.42.1', imageID: '', ready: false, restartCount: 0, state }],
    },
  };
}

describe('the kubelet naming a missing Secret', () => {
  it('a container in CreateContainerConfigError with `secret "torghut-ws" not found`', () => {
    const stuck = pod({ waiting: { reason: 'CreateContainerConfigError', message: 'secret "torghut-ws" not found' } });
    expect(missingSecretsOfPod(stuck)).toEqual([
      { secret: 'torghut-ws', object: 'Pod/torghut-ws-5c7d9f8b6d-k4k2m', container: 'torghut-ws', reason: 'CreateContainerConfigError', message: 'secret "torghut-ws" not found' },
    ]);
  });

  it('an init container counts too; running, ContainerCreating and other waiting reasons do not', () => {
    expect(missingSecretsOfPod(pod({ waiting: { reason: 'PodInitializing' } }, { waiting: { reason: 'CreateContainerConfigError', message: 'secret "kafka-ca" not found' } }))).toEqual([
      expect.objectContaining({ secret: 'kafka-ca', container: 'wait-for-kafka' }),
    ]);
    expect(missingSecretsOfPod(pod({ running: { startedAt: new Date() } }))).toEqual([]);
    expect(missingSecretsOfPod(pod({ waiting: { reason: 'ContainerCreating' } }))).toEqual([]);
    expect(missingSecretsOfPod(pod({ waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' } }))).toEqual([]);
  });

  const event = (over: Partial<EventFact>): EventFact => ({
    type: 'Warning',
    reason: 'FailedMount',
    message: 'MountVolume.SetUp failed for volume "kafka-credentials" : secret "torghut-ws" not found',
    object: 'Pod/torghut-ws-7d9f8b6c5d-x2x9z',
    count: 4,
    ...over,
  });

  it('FailedMount and Failed (`Error: secret … not found`) events of a pod name the Secret', () => {
    expect(missingSecretOfEvent(event({}))).toMatchObject({ secret: 'torghut-ws', reason: 'FailedMount', object: 'Pod/torghut-ws-7d9f8b6c5d-x2x9z' });
    expect(missingSecretOfEvent(event({ reason: 'Failed', message: 'Error: secret "torghut-ws" not found' }))).toMatchObject({ secret: 'torghut-ws', reason: 'Failed' });
  });

  it('Normal events, events of other objects and other messages do not', () => {
    expect(missingSecretOfEvent(event({ type: 'Normal' }))).toBeUndefined();
    expect(missingSecretOfEvent(event({ object: 'Deployment/torghut-ws' }))).toBeUndefined();
    expect(missingSecretOfEvent(event({ message: 'Readiness probe failed: HTTP probe failed with statuscode: 503' }))).toBeUndefined();
    expect(secretNotFoundIn('configmap "torghut-ws" not found')).toBeUndefined();
  });
});

describe('what the classifier is told', () => {
  const ready = { name: 'torghut-ws', found: true, ready: 'True', secret: 'torghut-ws', username: 'torghut-ws' } as const;

  it('KafkaUser Ready, nothing missing: one line, no problem, no note', () => {
    expect(kafkaCredentialFindings({ kafkaUser: ready, expectedSecret: 'torghut-ws', missingSecrets: [] }, [])).toEqual({
      kafkaUser: 'KafkaUser torghut-ws Ready (Secret torghut-ws, username torghut-ws)',
      problem: false,
      containers: [],
      events: [],
      notes: [],
    });
  });

  it('a Secret the forwarder needs for something else reported missing: a problem, but not a KafkaUser fix', () => {
    const mount: EventFact = { type: 'Warning', reason: 'FailedMount', message: 'MountVolume.SetUp failed for volume "alpaca" : secret "torghut-ws-alpaca" not found', object: 'Pod/p', count: 1 };
    const findings = kafkaCredentialFindings({ kafkaUser: ready, expectedSecret: 'torghut-ws', missingSecrets: [] }, [mount]);
    expect(findings).toMatchObject({ problem: true, events: [mount], notes: ['the kubelet reports Secret torghut-ws-alpaca not found: a human restores it before any restart'] });
  });
});
