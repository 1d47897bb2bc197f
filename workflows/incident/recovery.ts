/**
 * Phase 5b — came back, as the runbook says: after the rollout and readiness 200, the runbook's own
 * checks before the outcome is `remediated`:
 *
 * - stability: the new pods stay Ready, with no container restart and no replacement, for
 *   `verification.stableFor` (default 2 minutes), watched in windows of at most a minute so a lost
 *   worker costs seconds;
 * - status: "status topic resumes" — the runbook's PromQL expression (`verification.prometheus`)
 *   holds, asked of the worker's Prometheus until its own timeout. With no Prometheus configured the
 *   check cannot be made: recorded as unchecked and noted, not failed.
 *
 * Each check is recorded in `verification.checks` with its evidence; the first that fails says so in
 * `verification.failedCheck` and the verification fails (a new diagnosis and the rollback offer
 * follow). Incidents begun before these checks (no marker) are remediated as they were.
 */
import { patched } from '@temporalio/workflow';
import { durationMs } from '../../domain/duration';
import type { PromqlCheck } from '../../activities/prometheus';
import type { StabilityLook } from '../../activities/verify';
import type { RecoveryCheck, VerificationRecord } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { watch } from './activities';
import type { Incident } from './context';

export const RECOVERY_CHECKS_PATCH = 'agentruns-recovery-checks';

/** One window of a watch: at most a minute (the activities heartbeat within it). */
const WINDOW_MS = 60_000;

/** Runs the runbook's recovery checks after a verified rollout; the failed check, or null when all held. */
export async function confirmRecovery(incident: Incident, verification: VerificationRecord): Promise<RecoveryCheck | null> {
  // A runbook snapshot recorded before these settings existed has none (replay of older incidents).
  const wanted = incident.r.runbook.verification as RunbookConfig['verification'] | undefined;
  if (!wanted || (wanted.stableFor === 'off' && !wanted.prometheus)) return null;
  if (!patched(RECOVERY_CHECKS_PATCH)) return null;
  const checks: RecoveryCheck[] = (verification.checks = []);
  const record = (check: RecoveryCheck) => {
    checks.push(check);
    incident.showDetails();
    return check;
  };

  if (wanted.stableFor !== 'off') {
    const check = record(await watchStability(incident, wanted.stableFor));
    if (check.result === 'failed') return check;
  }
  if (wanted.prometheus) {
    const check = record(await checkStatus(incident, wanted.prometheus));
    if (check.result === 'unchecked') incident.note(`verification could not check: ${check.detail}`);
    if (check.result === 'failed') return check;
  }
  return null;
}

async function watchStability(incident: Incident, stableFor: string): Promise<RecoveryCheck> {
  const what = `the new pods Ready, without a container restart, for ${stableFor}`;
  const deadline = Date.now() + durationMs(stableFor);
  let baseline: Record<string, number> | null = null;
  for (;;) {
    const left = deadline - Date.now();
    const look: StabilityLook = await watch.watchStability({ target: incident.r.target, baseline, windowMs: Math.max(0, Math.min(left, WINDOW_MS)) });
    if (!look.stable) return { name: 'stability', result: 'failed', what, detail: look.detail, checkedAt: look.checkedAt };
    baseline = look.baseline;
    if (Date.now() >= deadline) return { name: 'stability', result: 'passed', what, detail: look.detail, checkedAt: look.checkedAt };
  }
}

async function checkStatus(incident: Incident, prometheus: { query: string; description?: string; timeout: string }): Promise<RecoveryCheck> {
  const what = prometheus.description ? `${prometheus.description} (${prometheus.query})` : prometheus.query;
  const deadline = Date.now() + durationMs(prometheus.timeout);
  for (;;) {
    const left = deadline - Date.now();
    const look: PromqlCheck = await watch.checkPromql({ query: prometheus.query, windowMs: Math.max(0, Math.min(left, WINDOW_MS)) });
    if (look.unchecked) return { name: 'status', result: 'unchecked', what, detail: look.unchecked, checkedAt: look.checkedAt };
    if (look.holds) return { name: 'status', result: 'passed', what, detail: look.detail, checkedAt: look.checkedAt };
    if (Date.now() >= deadline) return { name: 'status', result: 'failed', what, detail: `did not hold within ${prometheus.timeout}: ${look.detail}`, checkedAt: look.checkedAt };
  }
}
