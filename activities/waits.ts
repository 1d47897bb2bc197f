/**
 * The incident's long waits, made of short windows: each activity here watches for at most a minute
 * (heartbeating every few seconds) and returns what it saw; the workflow loops until its own deadline
 * (workflow time) has passed. So a worker rollout (its shutdown grace ends the window early,
 * with what was seen so far) or a crash (the short heartbeat timeout hands the window to the next
 * worker) costs seconds and never an attempt of a two-hour wait.
 *
 * - `watchMerge`: the restart PR until merged or closed, and at the window's end the present state
 *   of the target (readiness, replicas, restart annotation) — the pre-flight while a human reviews.
 * - `lookAtTarget`: that present state on its own, right before the incident acts.
 */
import { activityContext, heartbeat } from './context';
import type { DiagnosisTarget, DeploymentFacts, ProbeResult } from '../domain/diagnosis';
import { RESTARTED_AT_ANNOTATION } from '../domain/diagnosis';
import type { PullRequestRecord } from '../domain/incident';

/** Heartbeat at least this often: the workflow's heartbeat timeout is a few times this. */
export const WATCH_HEARTBEAT_MS = 3_000;
/** The longest window one watch activity runs. */
export const WATCH_WINDOW_MAX_MS = 60_000;

/** The target as it is now. */
export interface TargetLook {
  at: string;
  /** Readiness answered 200 on every current pod (and there is at least one). */
  ready: boolean;
  replicas: number | null;
  restartedAt: string | null;
  /** A sentence for the audit trail. */
  detail: string;
}

export interface WaitDeps {
  getPullRequest(input: { owner: string; repo: string; pr: PullRequestRecord }): Promise<PullRequestRecord>;
  getDeploymentFacts(target: DiagnosisTarget): Promise<DeploymentFacts>;
  probePods(target: DiagnosisTarget): Promise<ProbeResult[]>;
}

export interface WatchMergeInput {
  owner: string;
  repo: string;
  pr: PullRequestRecord;
  pollIntervalMs: number;
  /** How long this window may watch (the workflow passes what is left of the merge timeout, capped). */
  windowMs: number;
  /** Look at the target when the window ends with the PR still open. */
  target?: DiagnosisTarget;
}

export interface WatchMergeResult {
  pr: PullRequestRecord;
  state: 'open' | 'merged' | 'closed';
  /** The target when the window ended with the PR still open. */
  present?: TargetLook;
}

/** Sleeps up to `ms` in heartbeat-sized steps; false when the activity was cancelled (worker shutdown). */
export async function rest(ms: number, details: unknown): Promise<boolean> {
  const ctx = activityContext();
  const until = Date.now() + ms;
  while (Date.now() < until) {
    heartbeat(details);
    const step = Math.min(WATCH_HEARTBEAT_MS, until - Date.now());
    try {
      if (ctx) await ctx.sleep(step);
      else await new Promise((resolve) => setTimeout(resolve, step));
    } catch {
      return false;
    }
  }
  heartbeat(details);
  return true;
}

export function createWaitActivities(deps: WaitDeps) {
  async function lookAtTarget(target: DiagnosisTarget): Promise<TargetLook> {
    const [deployment, probes] = await Promise.all([deps.getDeploymentFacts(target), deps.probePods(target)]);
    const readiness = probes.filter((p) => p.path === target.health.readinessPath);
    const ready = readiness.length > 0 && readiness.every((p) => p.status === 200);
    const restartedAt = deployment.templateAnnotations[RESTARTED_AT_ANNOTATION] ?? null;
    const answers = readiness.map((p) => `${p.pod} ${p.status ?? p.error ?? 'no answer'}`).join(', ') || 'no pod answered';
    return {
      at: new Date().toISOString(),
      ready,
      replicas: deployment.replicas,
      restartedAt,
      detail: `${target.health.readinessPath}: ${answers}; replicas=${deployment.replicas}; restartedAt=${restartedAt ?? 'none'}`,
    };
  }

  return {
    lookAtTarget,

    async watchMerge(input: WatchMergeInput): Promise<WatchMergeResult> {
      const until = Date.now() + Math.min(Math.max(input.windowMs, 0), WATCH_WINDOW_MAX_MS);
      const repo = { owner: input.owner, repo: input.repo };
      let pr = input.pr;
      for (;;) {
        pr = await deps.getPullRequest({ ...repo, pr });
        if (pr.merged) return { pr, state: 'merged' };
        if (pr.closed) return { pr, state: 'closed' };
        const left = until - Date.now();
        const keepWatching = left > 0 && (await rest(Math.min(input.pollIntervalMs, left), { pr: pr.number }));
        if (!keepWatching) break;
      }
      // The look is best effort: a window whose look fails is followed by the next one.
      const present = input.target ? await lookAtTarget(input.target).catch(() => undefined) : undefined;
      return { pr, state: 'open', ...(present ? { present } : {}) };
    },
  };
}

export type WaitActivities = ReturnType<typeof createWaitActivities>;
