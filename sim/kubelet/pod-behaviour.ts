/**
 * What a pod of a scenario does, as the test kubelet plays it: pods of the ReplicaSet that was
 * current when the scenario was seeded show the scenario's broken state; pods of a ReplicaSet
 * created by the `restartsUntilCured`-th rollout after that (and later) show `afterRestart`, when
 * the scenario has one and the Deployment runs no more replicas than it allows. The same rules as
 * the in-process simulator (sim/kube-api.ts), so a scenario means the same thing on both.
 */
import type { HealthAnswer, Scenario } from '../scenario';
import type { PodAnswers } from './pod-server';

export interface PodBehaviour {
  cured: boolean;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  ready: boolean;
  restarts: number;
  /** When the container started (seeded pods started long ago). */
  startedAt: Date;
  answers: PodAnswers;
  logs: string[];
  /** Logs once a cure wore off (relapse). */
  relapsedLogs: string[];
}

export interface PodPlacement {
  /** Rollouts since the scenario was seeded (0: the seeded ReplicaSet). */
  rollouts: number;
  /**
   * The pod existed when the scenario was seeded: it started `startedSecondsAgo` with the
   * scenario's restarts. A later pod of the seeded ReplicaSet (a replacement) starts now.
   */
  seededPod: boolean;
  /** Position of the pod among its ReplicaSet's pods (readyCount makes the first N ready). */
  index: number;
  /** spec.replicas of the Deployment when the pod starts. */
  replicas: number;
  now: Date;
}

const isOk = (answer: HealthAnswer): boolean => 'status' in answer && answer.status >= 200 && answer.status < 300;

export function podBehaviour(scenario: Scenario, placement: PodPlacement): PodBehaviour {
  const after = scenario.afterRestart;
  const seeded = placement.rollouts === 0;
  const cured =
    after !== undefined &&
    placement.rollouts >= scenario.restartsUntilCured &&
    (after.maxReplicas === undefined || placement.replicas <= after.maxReplicas);
  const base = { readiness: scenario.readiness, liveness: scenario.liveness, logs: scenario.logs };
  const condition = cured && after
    ? { readiness: after.readiness ?? base.readiness, liveness: after.liveness ?? base.liveness, logs: after.logs ?? base.logs, ready: after.ready }
    : { ...base, ready: undefined };

  let ready: boolean;
  if (condition.ready !== undefined) ready = condition.ready;
  else if (!cured && scenario.pods.readyCount !== undefined) ready = placement.index < scenario.pods.readyCount;
  else ready = isOk(condition.readiness);
  const phase = seeded ? scenario.pods.phase : 'Running';
  if (phase !== 'Running') ready = false;

  // A Ready pod among not-ready ones (replicas > 1) answers as a healthy forwarder does.
  const readiness = ready && !isOk(condition.readiness) ? scenario.readyReadiness : condition.readiness;
  const answers: PodAnswers = { liveness: condition.liveness, readiness };
  if (cured && after?.relapseAfterReadinessProbes !== undefined) {
    answers.relapseAfterReadinessProbes = after.relapseAfterReadinessProbes;
    answers.relapsed = { liveness: base.liveness, readiness: base.readiness };
  }
  return {
    cured,
    phase,
    ready,
    restarts: placement.seededPod ? scenario.pods.restarts : 0,
    startedAt: placement.seededPod ? new Date(placement.now.getTime() - scenario.pods.startedSecondsAgo * 1000) : placement.now,
    answers,
    logs: condition.logs,
    relapsedLogs: base.logs,
  };
}
