/**
 * Verification after a restart, as the runbook's checklist: the rollout carrying our restartedAt is
 * complete (observed generation caught up, updated and available replicas as desired) and every new
 * pod answers its readiness path with 200 — within the timeout, polled with heartbeats.
 */
import { heartbeat, pause } from './context';
import type { DiagnosisTarget, ProbeResult } from '../domain/diagnosis';
import type { VerificationRecord } from '../domain/incident';
import type { RolloutStatus } from './kubernetes';

export interface VerifyDeps {
  rolloutStatus(target: DiagnosisTarget): Promise<RolloutStatus>;
  probePods(target: DiagnosisTarget): Promise<ProbeResult[]>;
}

export interface VerifyInput {
  target: DiagnosisTarget;
  restartedAt: string;
  timeoutMs: number;
  pollIntervalMs?: number;
}

/** One look at the cluster: null when verified, otherwise what is still missing. */
async function check(deps: VerifyDeps, input: VerifyInput): Promise<string | null> {
  const rollout = await deps.rolloutStatus(input.target);
  if (rollout.restartedAt !== input.restartedAt) {
    return `the Deployment does not carry restartedAt=${input.restartedAt} yet (has ${rollout.restartedAt ?? 'none'}): waiting for the change to reach the cluster`;
  }
  if (!rollout.complete) {
    return `rollout in progress: generation ${rollout.observedGeneration}/${rollout.generation}, updated ${rollout.updatedReplicas}, available ${rollout.availableReplicas} of ${rollout.replicas}`;
  }
  const readiness = (await deps.probePods(input.target)).filter((p) => p.path === input.target.health.readinessPath);
  if (readiness.length === 0) return 'no pod answered the readiness probe';
  const failing = readiness.filter((p) => p.status !== 200);
  if (failing.length > 0) {
    return failing.map((p) => `${p.pod} ${input.target.health.readinessPath} → ${p.status ?? 'unreachable'} ${p.body.slice(0, 200)}`).join('; ');
  }
  return null;
}

export function createVerifyActivities(deps: VerifyDeps) {
  return {
    async verifyRestart(input: VerifyInput): Promise<VerificationRecord> {
      const deadline = Date.now() + input.timeoutMs;
      const interval = input.pollIntervalMs ?? 2000;
      for (;;) {
        let missing: string | null;
        try {
          missing = await check(deps, input);
        } catch (err) {
          missing = `cluster not answering: ${(err as Error).message}`;
        }
        if (missing === null) {
          return {
            ok: true,
            checkedAt: new Date().toISOString(),
            detail: `rollout complete and ${input.target.health.readinessPath} 200 on every new pod`,
          };
        }
        heartbeat(missing);
        if (Date.now() + interval > deadline) return { ok: false, checkedAt: new Date().toISOString(), detail: missing };
        await pause(interval);
      }
    },
  };
}


export type VerifyActivities = ReturnType<typeof createVerifyActivities>;
