/**
 * Before the restart PR (phase 4): does Argo CD apply the file the PR changes? The live Deployment
 * must be managed by the runbook's Argo CD application (tracking annotation or instance label), and
 * that application must read the runbook's repository, at a path holding the manifest, on the PR's
 * branch (domain/argo-ownership.ts). A mismatch ends the incident as `needs-human`, both sides in
 * `state.argoOwnership`, instead of a PR that merges and restarts nothing.
 *
 * Skipped, and said so, when the runbook disables Argo CD. When a side cannot be read (Argo CD or the
 * API server down), the check is noted as not made and the restart goes ahead: an unreadable source
 * is not a mismatch, and verification still catches a restart that never reached the cluster.
 * New in-flight behaviour, so behind {@link ARGO_OWNERSHIP_PATCH}.
 */
import { isCancellation, patched } from '@temporalio/workflow';
import type { IncidentState } from '../../domain/incident';
import { diag } from './activities';
import { failureText, type Incident } from './context';

export const ARGO_OWNERSHIP_PATCH = 'agentruns-argo-ownership';

/** The closed state when Argo CD would not apply the PR, else null (go on and open it). */
export async function confirmArgoOwnership(incident: Incident): Promise<IncidentState | null> {
  if (!patched(ARGO_OWNERSHIP_PATCH)) return null;
  const { state } = incident;
  const { runbook, target, change } = incident.r;
  const application = runbook.argo?.application ?? '(none)';
  if (!runbook.argo?.enabled) {
    const summary = `Argo CD ownership not checked: Argo CD is disabled in runbook ${runbook.id}`;
    state.argoOwnership = { checked: false, ok: false, application, mismatches: [], summary };
    incident.note(summary);
    return null;
  }
  try {
    state.argoOwnership = await diag.checkArgoOwnership({
      application,
      target,
      owner: change.owner,
      repo: change.repo,
      baseBranch: change.baseBranch,
      deploymentPath: change.deploymentPath,
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    const summary = `Argo CD ownership could not be checked (${failureText(err)}): opening the PR unchecked; verification shows whether it reached the cluster`;
    state.argoOwnership = { checked: false, ok: false, application, mismatches: [], summary };
    incident.note(summary);
    return null;
  }
  incident.note(state.argoOwnership.summary);
  if (state.argoOwnership.ok) return null;
  return incident.close('needs-human', 'not opening a restart PR that Argo CD would never apply: a human must fix the runbook or the Argo CD application');
}
