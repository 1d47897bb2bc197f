/**
 * Verification after a restart, as the runbook's checklist: the rollout carrying our restartedAt is
 * complete (observed generation caught up, updated and available replicas as desired) and every new
 * pod answers its readiness path with 200 — within the timeout, polled with heartbeats. The workflow
 * calls it in short windows until its own verification deadline (see ./waits.ts).
 */
import { heartbeat } from './context';
import { rest } from './waits';
import type { DiagnosisTarget, ProbeResult } from '../domain/diagnosis';
import type { VerificationRecord } from '../domain/incident';
import type { RolloutStatus } from './kubernetes';

export interface VerifyDeps {
  rolloutStatus(target: DiagnosisTarget): Promise<RolloutStatus>;
  probePods(target: DiagnosisTarget): Promise<ProbeResult[]>;
}

export interface VerifyInput {
  target: DiagnosisTarget;
  /** The annotation the rollout must carry (null: none, e.g. after a revert to no annotation). */
  restartedAt: string | null;
  /** Also require readiness 200 on every pod (default true); a revert's rollout only has to finish. */
  expectReady?: boolean;
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
  if (input.expectReady === false) return null;
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
            detail:
            input.expectReady === false
              ? `rollout with restartedAt=${input.restartedAt ?? 'none'} complete`
              : `rollout complete and ${input.target.health.readinessPath} 200 on every new pod`,
          };
        }
        heartbeat(missing);
        const notYet = { ok: false, checkedAt: new Date().toISOString(), detail: missing };
        if (Date.now() + interval > deadline) return notYet;
        // A worker shutting down ends the window early with what was seen: the workflow looks again.
        if (!(await rest(interval, missing))) return notYet;
      }
    },
  };
}


export type VerifyActivities = ReturnType<typeof createVerifyActivities>;
