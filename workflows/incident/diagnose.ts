/**
 * Phases 1–2 — diagnose and classify: the read-only activities in parallel (a failing source
 * degrades the diagnosis instead of failing it), then the pure rules run as an activity, so a rule
 * change never breaks replay. Then the guards that end an incident before anyone is asked: healthy,
 * unclassified, a Deployment that cannot be read, a restart within the cool-down — counted from the
 * latest of the restart annotation (live or in Git) and the moment an earlier incident's restart
 * really took effect (its `restart.happenedAt`, read from Temporal).
 */
import { isCancellation, patched, upsertSearchAttributes } from '@temporalio/workflow';
import type { EarlierRestart } from '../../activities/incident-records';
import { restartPolicyOf } from '../../domain/approval';
import { HEALTHY } from '../../domain/classification';
import { collectDiagnosis, type CollectOptions } from '../../domain/collect-diagnosis';
import { RESTARTED_AT_ANNOTATION, type Diagnosis } from '../../domain/diagnosis';
import { durationMs } from '../../domain/duration';
import type { IncidentState } from '../../domain/incident';
import { classKey } from '../../domain/search-attributes';
import { diag, trust } from './activities';
import { failureText, sourceFailureText, type Incident } from './context';

export function classifyOptions(incident: Incident) {
  const { runbook, target } = incident.r;
  return {
    // The worker classifies by this runbook's failure knowledge (its own loaded copy).
    runbookId: runbook.id,
    logTailLines: runbook.diagnosis.logTailLines,
    expectedReplicas: runbook.target.expectedReplicas,
    kafkaUser: target.kafkaUser,
    readinessPath: runbook.target.health.readinessPath,
  };
}

/** Diagnoses and classifies; the closed state when a guard ends the incident here, else null. */
export async function diagnose(incident: Incident): Promise<IncidentState | null> {
  const { state } = incident;
  const { runbook } = incident.r;
  incident.enter('diagnosing');
  const cooldownMs = durationMs(runbook.timeouts.cooldown);
  // The earlier incidents' restarts are looked up beside the diagnosis sources, not after them.
  const [diagnosis, earlier] = await Promise.all([
    collectDiagnosis(diag, runbook, diagnosisOptions()),
    patched(COOLDOWN_WITH_DIAGNOSIS_PATCH) ? recordedRestart(incident, cooldownMs) : Promise.resolve(undefined),
  ]);
  state.diagnosis = diagnosis;
  state.classification = await diag.classifyIncident(state.diagnosis, classifyOptions(incident));
  upsertSearchAttributes([{ key: classKey, value: state.classification.class }]);

  if (state.classification.class === HEALTHY) return incident.close('healthy-no-action', 'readiness is 200: nothing to do');
  const noRestart = noRestartReason(incident);
  if (noRestart) return incident.close('needs-human', noRestart);
  if (!state.diagnosis.deployment.ok) {
    return incident.close('needs-human', 'the Deployment could not be read, so its restart history (cool-down) is unknown: not restarting blind');
  }
  const annotated = lastRestartOf(state.diagnosis);
  const recorded = earlier !== undefined ? earlier : annotated !== null && Date.now() - annotated < cooldownMs ? null : await recordedRestart(incident, cooldownMs);
  const lastRestart = Math.max(annotated ?? -Infinity, recorded ? Date.parse(recorded.happenedAt) : -Infinity);
  if (Number.isFinite(lastRestart) && Date.now() - lastRestart < cooldownMs) {
    const by = recorded && Date.parse(recorded.happenedAt) === lastRestart ? ` (by incident run ${recorded.runId}, when its restart took effect)` : '';
    return incident.close(
      'needs-human',
      `restarted ${Math.round((Date.now() - lastRestart) / 60_000)} min ago${by}, within the ${runbook.timeouts.cooldown} cool-down: ` +
        'escalating instead of restarting a flapping service in a loop',
    );
  }
  return null;
}

/**
 * Marks incidents that look up earlier incidents' restarts (the cool-down) beside the diagnosis
 * sources, always; before, after the classification and only when the restart annotation left the
 * question open — one activity round trip more on the way to approval.
 */
export const COOLDOWN_WITH_DIAGNOSIS_PATCH = 'agentruns-cooldown-with-diagnosis';

/** Marks incidents whose degraded diagnosis sources record the whole failure (operation, status, attempts). */
export const FAULT_REASONS_PATCH = 'agentruns-fault-reasons';

/** How this incident records a failed diagnosis source: whole, or (incidents started before) its innermost message. */
export function diagnosisOptions(): CollectOptions {
  return patched(FAULT_REASONS_PATCH) ? { reasonOf: sourceFailureText } : {};
}

/** Marks incidents routed by their runbook's procedure data (`restart: forbidden`) rather than by "no procedure". */
export const RUNBOOK_FAILURES_PATCH = 'agentruns-runbook-failures';

/** Why the classified failure gets no automated restart, or null when it may be restarted after approval. */
function noRestartReason(incident: Incident): string | null {
  const classification = incident.state.classification!;
  const unclassified = 'the failure could not be classified; a human must diagnose it from the evidence';
  if (!patched(RUNBOOK_FAILURES_PATCH)) return classification.procedure === null ? unclassified : null;
  if (restartPolicyOf(incident.r.runbook, classification) !== 'forbidden') return null;
  if (classification.procedure === null) return unclassified;
  return `procedure ${classification.procedure} of runbook ${incident.r.runbook.id} allows no automated restart for ${classification.class}: ${classification.action}`;
}

/** Marks incidents whose cool-down also counts from earlier incidents' recorded restart moments. */
export const COOLDOWN_FROM_RESTART_PATCH = 'agentruns-cooldown-from-restart-moment';

/**
 * The latest restart an earlier incident of this target made within the cool-down, by when it really
 * took effect (a PR merged long after its approval carries the approval's restartedAt). Unreadable
 * records leave the annotation as the only clue, with a note.
 */
async function recordedRestart(incident: Incident, cooldownMs: number): Promise<EarlierRestart | null> {
  if (!patched(COOLDOWN_FROM_RESTART_PATCH)) return null;
  try {
    return await trust.lastRestartOfTarget({ withinMs: cooldownMs });
  } catch (err) {
    if (isCancellation(err)) throw err;
    incident.note(`the earlier incidents of this target could not be read (${failureText(err)}): the cool-down counts from the restart annotation only`);
    return null;
  }
}

/** The live restartedAt annotation of a diagnosis, or null. */
export function liveRestartedAt(diagnosis: Diagnosis | null): string | null {
  return diagnosis?.deployment.ok ? (diagnosis.deployment.value.templateAnnotations[RESTARTED_AT_ANNOTATION] ?? null) : null;
}

/**
 * The latest restart the target has had or is about to get: the live annotation, or the one in Git
 * (a restart merged but not yet synced counts too).
 */
function lastRestartOf(diagnosis: Diagnosis): number | null {
  const candidates = [liveRestartedAt(diagnosis), diagnosis.gitops?.ok ? diagnosis.gitops.value.restartedAt : null]
    .map((value) => (value ? Date.parse(value) : NaN))
    .filter((at) => Number.isFinite(at));
  return candidates.length ? Math.max(...candidates) : null;
}
