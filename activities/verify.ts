/**
 * Verification after a restart, as the runbook's checklist: the rollout carrying our restartedAt is
 * complete (observed generation caught up, updated and available replicas as desired) and every pod
 * of the current ReplicaSet answers its readiness path with 200 — within the timeout, polled with
 * heartbeats. Pods of the old ReplicaSets that still terminate, and Evicted or Completed pods, are
 * left out (and counted in the detail): on a real cluster they keep the Deployment's labels. The
 * workflow calls it in short windows until its own verification deadline (see ./waits.ts).
 *
 * Each record says what it could and could not check:
 * - the Deployment never carrying our restartedAt means the change did not reach the cluster (Argo
 *   CD unreachable, a failed sync): `restarted: false`, nothing restarted;
 * - a readiness probe the API server refuses (401/403 on pods/proxy) is a check that could not be
 *   made, not a failed one: with the rollout complete and every pod Ready by the kubelet's own
 *   probes, the restart is verified and the record names the check it could not make (`unchecked`).
 */
import { ApplicationFailure } from '@temporalio/common';
import { heartbeat } from './context';
import { rest } from './waits';
import { consideredPods, type DiagnosisTarget, type PodFacts, type ProbeResult } from '../domain/diagnosis';
import type { VerificationRecord } from '../domain/incident';
import type { RolloutStatus } from './kubernetes';

export interface VerifyDeps {
  rolloutStatus(target: DiagnosisTarget): Promise<RolloutStatus>;
  probePods(target: DiagnosisTarget): Promise<ProbeResult[]>;
  listPods(target: DiagnosisTarget): Promise<PodFacts[]>;
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

/** One look at the cluster. */
type Look =
  | { verified: true; detail: string; unchecked?: string[] }
  | { verified: false; detail: string; restarted?: boolean; unchecked?: string[] };

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The API server refused the probe itself (pods/proxy 401/403): readiness could not be asked. */
const probeRefused = (err: unknown): boolean => err instanceof ApplicationFailure && err.type === 'NotAllowedError';

async function check(deps: VerifyDeps, input: VerifyInput): Promise<Look> {
  let rollout: RolloutStatus;
  try {
    rollout = await deps.rolloutStatus(input.target);
  } catch (err) {
    return { verified: false, detail: `could not check the rollout (the Deployment could not be read): ${messageOf(err)}`, unchecked: ['rollout'] };
  }
  if (rollout.restartedAt !== input.restartedAt) {
    return {
      verified: false,
      restarted: false,
      detail: `the Deployment does not carry restartedAt=${input.restartedAt} yet (has ${rollout.restartedAt ?? 'none'}): the change has not reached the cluster`,
    };
  }
  if (!rollout.complete) {
    return {
      verified: false,
      restarted: true,
      detail: `rollout in progress: generation ${rollout.observedGeneration}/${rollout.generation}, updated ${rollout.updatedReplicas}, available ${rollout.availableReplicas} of ${rollout.replicas}`,
    };
  }
  let scope = '';
  try {
    scope = scopeText(rollout, await deps.listPods(input.target));
  } catch (err) {
    scope = `pods not listed: ${messageOf(err)}`;
  }
  if (input.expectReady === false) return { verified: true, detail: `rollout with restartedAt=${input.restartedAt ?? 'none'} complete: ${scope}` };
  const path = input.target.health.readinessPath;
  let probes: ProbeResult[];
  try {
    probes = await deps.probePods(input.target);
  } catch (err) {
    if (!probeRefused(err)) return { verified: false, restarted: true, detail: `rollout complete; readiness could not be probed: ${messageOf(err)}`, unchecked: ['readiness probe'] };
    return kubeletReadiness(deps, input, `readiness probe ${path} (${messageOf(err)})`);
  }
  const readiness = probes.filter((p) => p.path === path);
  if (readiness.length === 0) return { verified: false, restarted: true, detail: `no pod answered the readiness probe (${scope})` };
  const failing = readiness.filter((p) => p.status !== 200);
  if (failing.length > 0) {
    return { verified: false, restarted: true, detail: `${failing.map((p) => `${p.pod} ${path} → ${p.status ?? 'unreachable'} ${p.body.slice(0, 200)}`).join('; ')} (${scope})` };
  }
  return { verified: true, detail: `rollout complete and ${path} 200 on every new pod: ${scope}` };
}

/** Readiness as the kubelet reports it (the pods' Ready condition), when we may not probe ourselves. */
async function kubeletReadiness(deps: VerifyDeps, input: VerifyInput, unchecked: string): Promise<Look> {
  let pods: PodFacts[];
  try {
    pods = await deps.listPods(input.target);
  } catch (err) {
    return { verified: false, restarted: true, detail: `rollout complete; could not check readiness: ${unchecked}, and the pods could not be listed: ${messageOf(err)}`, unchecked: [unchecked, 'pod conditions'] };
  }
  // Only the current ReplicaSet's running pods say anything about the Deployment now.
  pods = consideredPods(pods);
  const notReady = pods.filter((p) => !p.ready);
  if (pods.length > 0 && notReady.length === 0) {
    return {
      verified: true,
      detail: `rollout complete and every pod Ready per the kubelet (${pods.map((p) => p.name).join(', ')}); could not check readiness ourselves: ${unchecked}`,
      unchecked: [unchecked],
    };
  }
  const which = pods.length === 0 ? 'no pod listed' : `not Ready per the kubelet: ${notReady.map((p) => p.name).join(', ')}`;
  return { verified: false, restarted: true, detail: `rollout complete, ${which}; could not check readiness ourselves: ${unchecked}`, unchecked: [unchecked] };
}

function recordOf(look: Look): VerificationRecord {
  return {
    ok: look.verified,
    checkedAt: new Date().toISOString(),
    detail: look.detail,
    ...(!look.verified && look.restarted !== undefined ? { restarted: look.restarted } : {}),
    ...(look.verified ? { restarted: true } : {}),
    ...(look.unchecked?.length ? { unchecked: look.unchecked } : {}),
  };
}

export interface StabilityInput {
  target: DiagnosisTarget;
  /** Restarts per pod when the watch began (from the previous window); null: this window begins it. */
  baseline: Record<string, number> | null;
  windowMs: number;
  pollIntervalMs?: number;
}

export interface StabilityLook {
  /** False as soon as a pod stopped being Ready, restarted a container, or was replaced. */
  stable: boolean;
  baseline: Record<string, number>;
  checkedAt: string;
  detail: string;
}

/** What broke the pods' stability since the baseline, or null. */
function instability(baseline: Record<string, number>, pods: PodFacts[]): string | null {
  const byName = new Map(pods.map((p) => [p.name, p]));
  for (const [name, restarts] of Object.entries(baseline)) {
    const pod = byName.get(name);
    if (!pod) return `pod ${name} is gone (replaced: ${pods.map((p) => p.name).join(', ') || 'none'})`;
    if (pod.restarts > restarts) return `pod ${name} restarted a container (${restarts} → ${pod.restarts} restarts)`;
    if (!pod.ready) return `pod ${name} is no longer Ready (phase ${pod.phase})`;
  }
  const extra = pods.filter((p) => !(p.name in baseline));
  return extra.length > 0 ? `new pod${extra.length === 1 ? '' : 's'} ${extra.map((p) => p.name).join(', ')} replaced the verified ones` : null;
}

export function createVerifyActivities(deps: VerifyDeps) {
  return {
    /**
     * One window of the stability watch after a verified restart: the current ReplicaSet's pods stay
     * Ready, restart no container and are not replaced. Polled with heartbeats; ends early with what
     * broke. A failed listing is retried at the next poll (and said, if it is the last look).
     */
    async watchStability(input: StabilityInput): Promise<StabilityLook> {
      const deadline = Date.now() + input.windowMs;
      const interval = input.pollIntervalMs ?? 2000;
      let baseline = input.baseline;
      let detail = 'not looked yet';
      for (;;) {
        try {
          const pods = consideredPods(await deps.listPods(input.target));
          if (!baseline) {
            const notReady = pods.filter((p) => !p.ready);
            if (pods.length === 0 || notReady.length > 0) {
              const why = pods.length === 0 ? 'no pod of the current ReplicaSet' : `pod ${notReady.map((p) => p.name).join(', ')} not Ready`;
              return { stable: false, baseline: {}, checkedAt: new Date().toISOString(), detail: why };
            }
            baseline = Object.fromEntries(pods.map((p) => [p.name, p.restarts]));
          }
          const broken = instability(baseline, pods);
          if (broken) return { stable: false, baseline, checkedAt: new Date().toISOString(), detail: broken };
          detail = `${pods.map((p) => `${p.name} Ready, ${p.restarts} restarts`).join('; ')}`;
        } catch (err) {
          detail = `pods could not be listed: ${messageOf(err)}`;
        }
        heartbeat(detail);
        // Watched to the end of the window (or until a shutting-down worker ends it early).
        const left = deadline - Date.now();
        if (left <= 0 || !(await rest(Math.min(interval, left), detail))) return { stable: true, baseline: baseline ?? {}, checkedAt: new Date().toISOString(), detail };
      }
    },

    async verifyRestart(input: VerifyInput): Promise<VerificationRecord> {
      const deadline = Date.now() + input.timeoutMs;
      const interval = input.pollIntervalMs ?? 2000;
      for (;;) {
        let look: Look;
        try {
          look = await check(deps, input);
        } catch (err) {
          look = { verified: false, detail: `cluster not answering: ${messageOf(err)}` };
        }
        if (look.verified) return recordOf(look);
        heartbeat(look.detail);
        const notYet = recordOf(look);
        if (Date.now() + interval > deadline) return notYet;
        // A worker shutting down ends the window early with what was seen: the workflow looks again.
        if (!(await rest(interval, look.detail))) return notYet;
      }
    },
  };
}

export type VerifyActivities = ReturnType<typeof createVerifyActivities>;
