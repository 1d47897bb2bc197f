/**
 * Verification after a restart, as the runbook's checklist: the rollout carrying our restartedAt is
 * complete (observed generation caught up, updated and available replicas as desired) and every pod
 * of the current ReplicaSet answers its readiness path with 200 — within the timeout, polled with
 * heartbeats. Pods of the old ReplicaSets that still terminate, and Evicted or Completed pods, are
 * left out (and counted in the detail): on a real cluster they keep the Deployment's labels. The
 * workflow calls it in short windows until its own verification deadline (see ./waits.ts).
 */
import { heartbeat } from './context';
import { rest } from './waits';
import { consideredPods, type DiagnosisTarget, type PodFacts, type ProbeResult } from '../domain/diagnosis';
import type { VerificationRecord } from '../domain/incident';
import type { RolloutStatus } from './kubernetes';

export interface VerifyDeps {
  rolloutStatus(target: DiagnosisTarget): Promise<RolloutStatus>;
  listPods(target: DiagnosisTarget): Promise<PodFacts[]>;
  /** Probes the pods of the current ReplicaSet only. */
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

/** Which pods were looked at: "pod(s) of ReplicaSet X (N old or finished pods ignored)". */
function scopeText(rollout: RolloutStatus, pods: PodFacts[]): string {
  const considered = consideredPods(pods).length;
  const ignored = pods.length - considered;
  const rs = rollout.podScope?.replicaSet;
  const of = rs ? `of ReplicaSet ${rs.name}` : `(current ReplicaSet unknown${rollout.podScope?.fallback ? `: ${rollout.podScope.fallback}` : ''})`;
  return `${considered} pod${considered === 1 ? '' : 's'} ${of}${ignored > 0 ? `; ${ignored} old or finished pod${ignored === 1 ? '' : 's'} ignored` : ''}`;
}

/** One look at the cluster: `done` when verified, otherwise what is still missing. */
async function check(deps: VerifyDeps, input: VerifyInput): Promise<{ done: boolean; detail: string }> {
  const rollout = await deps.rolloutStatus(input.target);
  const waiting = (detail: string) => ({ done: false, detail });
  if (rollout.restartedAt !== input.restartedAt) {
    return waiting(`the Deployment does not carry restartedAt=${input.restartedAt} yet (has ${rollout.restartedAt ?? 'none'}): waiting for the change to reach the cluster`);
  }
  if (!rollout.complete) {
    return waiting(`rollout in progress: generation ${rollout.observedGeneration}/${rollout.generation}, updated ${rollout.updatedReplicas}, available ${rollout.availableReplicas} of ${rollout.replicas}`);
  }
  const pods = await deps.listPods(input.target);
  if (input.expectReady === false) {
    return { done: true, detail: `rollout with restartedAt=${input.restartedAt ?? 'none'} complete: ${scopeText(rollout, pods)}` };
  }
  const path = input.target.health.readinessPath;
  const readiness = (await deps.probePods(input.target)).filter((p) => p.path === path);
  if (readiness.length === 0) return waiting(`no pod answered the readiness probe (${scopeText(rollout, pods)})`);
  const failing = readiness.filter((p) => p.status !== 200);
  if (failing.length > 0) {
    return waiting(`${failing.map((p) => `${p.pod} ${path} → ${p.status ?? 'unreachable'} ${p.body.slice(0, 200)}`).join('; ')} (${scopeText(rollout, pods)})`);
  }
  return { done: true, detail: `rollout complete and ${path} 200 on every new pod: ${scopeText(rollout, pods)}` };
}

export function createVerifyActivities(deps: VerifyDeps) {
  return {
    async verifyRestart(input: VerifyInput): Promise<VerificationRecord> {
      const deadline = Date.now() + input.timeoutMs;
      const interval = input.pollIntervalMs ?? 2000;
      for (;;) {
        let result: { done: boolean; detail: string };
        try {
          result = await check(deps, input);
        } catch (err) {
          result = { done: false, detail: `cluster not answering: ${(err as Error).message}` };
        }
        if (result.done) return { ok: true, checkedAt: new Date().toISOString(), detail: result.detail };
        const missing = result.detail;
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
