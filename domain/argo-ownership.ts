/**
 * Does Argo CD apply the file the restart PR changes? Checked before a PR is opened, because a PR to a
 * file no Argo CD application reads — or to the right file of a Deployment another application
 * manages — merges cleanly and restarts nothing.
 *
 * Two sides, both kept as evidence:
 * - the cluster: which application manages the live Deployment. Argo CD marks what it applies with
 *   the annotation `argocd.argoproj.io/tracking-id` (`<app>:<group>/<kind>:<namespace>/<name>`, the
 *   default tracking since Argo CD 3.0; `<app-namespace>_<app>` for applications outside the control
 *   plane's namespace) or, with label tracking, the label `app.kubernetes.io/instance: <app>`. The
 *   annotation wins when both are present (a Helm chart sets the label to its release name).
 * - Argo CD: the application's source(s) — `spec.source` or `spec.sources[]` — must read the runbook's
 *   repository, at a path that contains the manifest, on the branch the PR goes to.
 *
 * Pure: the activities read both sides, this decides.
 */

export const TRACKING_ID_ANNOTATION = 'argocd.argoproj.io/tracking-id';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';

/** One source of an Argo CD application, as `GET /api/v1/applications/{name}` returns it. */
export interface ArgoSourceFacts {
  repoURL: string;
  path?: string;
  targetRevision?: string;
  /** Set when the source is declared a plain directory (`directory:`): whether it reads subdirectories. */
  directoryRecurse?: boolean;
}

/** How the live Deployment is marked by Argo CD (null: absent). */
export interface LiveTracking {
  trackingId: string | null;
  instanceLabel: string | null;
}

export interface OwnershipInput {
  application: string;
  namespace: string;
  deployment: string;
  owner: string;
  repo: string;
  baseBranch: string;
  deploymentPath: string;
  live: LiveTracking;
  sources: ArgoSourceFacts[];
}

/** The check's record, kept in the incident state: both sides, and every mismatch in a sentence. */
export interface ArgoOwnership {
  /** False when the check was skipped (Argo CD disabled) or could not be made; `summary` says why. */
  checked: boolean;
  ok: boolean;
  application: string;
  /** The application the cluster says manages the Deployment, and by which mark. */
  live?: LiveTracking & { managedBy: string | null; by: 'tracking-id' | 'instance-label' | null };
  /** What the PR would change. */
  change?: { repository: string; path: string; branch: string };
  /** What the application reads. */
  sources?: ArgoSourceFacts[];
  mismatches: string[];
  summary: string;
}

/** The tracking-id Argo CD writes on a resource it applies (annotation tracking). */
export function trackingIdOf(application: string, object: { group: string; kind: string; namespace: string; name: string }): string {
  return `${application}:${object.group}/${object.kind}:${object.namespace}/${object.name}`;
}

const TRACKING_ID = /^([^:]+):([^/:]*)\/([^:]+):([^/]*)\/(.+)$/;

/** Judges both sides; `ok` only when the Deployment is the application's and a source holds the file. */
export function judgeOwnership(input: OwnershipInput): ArgoOwnership {
  const { application } = input;
  const mismatches: string[] = [];
  const live = liveOwner(input, mismatches);
  if (live.managedBy !== null && live.managedBy !== application) {
    mismatches.push(
      `the live Deployment ${input.namespace}/${input.deployment} is managed by Argo CD application ${live.managedBy} (${live.by}), not by the runbook's ${application}`,
    );
  }
  const wanted = `${input.owner}/${input.repo}`;
  const change = { repository: wanted, path: input.deploymentPath, branch: input.baseBranch };
  mismatches.push(...sourceMismatches(input, wanted));

  const ok = mismatches.length === 0;
  const summary = ok
    ? `Argo CD application ${application} manages ${input.namespace}/${input.deployment} (${live.by}) and reads ${wanted} ${input.deploymentPath} on ${input.baseBranch}`
    : `Argo CD would not apply the restart PR: ${mismatches.join('; ')}`;
  return { checked: true, ok, application, live, change, sources: input.sources, mismatches, summary };
}

function liveOwner(input: OwnershipInput, mismatches: string[]): NonNullable<ArgoOwnership['live']> {
  const { trackingId, instanceLabel } = input.live;
  if (trackingId !== null) {
    const match = TRACKING_ID.exec(trackingId);
    if (!match) {
      mismatches.push(`the live Deployment's ${TRACKING_ID_ANNOTATION} ${JSON.stringify(trackingId)} is not <app>:<group>/<kind>:<namespace>/<name>`);
      return { trackingId, instanceLabel, managedBy: null, by: 'tracking-id' };
    }
    const [, app, group, kind, namespace, name] = match as unknown as [string, string, string, string, string, string];
    // Applications outside Argo CD's own namespace are tracked as <app-namespace>_<app>.
    const managedBy = app.includes('_') ? app.slice(app.indexOf('_') + 1) : app;
    const tracked = `${group}/${kind}:${namespace}/${name}`;
    const self = `apps/Deployment:${input.namespace}/${input.deployment}`;
    if (tracked !== self) {
      mismatches.push(`the live Deployment's ${TRACKING_ID_ANNOTATION} names ${tracked}, not ${self} (copied from another resource?), so Argo CD does not track it`);
    }
    return { trackingId, instanceLabel, managedBy, by: 'tracking-id' };
  }
  if (instanceLabel !== null) return { trackingId, instanceLabel, managedBy: instanceLabel, by: 'instance-label' };
  mismatches.push(`the live Deployment ${input.namespace}/${input.deployment} has neither ${TRACKING_ID_ANNOTATION} nor ${INSTANCE_LABEL}: no Argo CD application manages it`);
  return { trackingId, instanceLabel, managedBy: null, by: null };
}

/** Why no source of the application reads the file on the branch (empty when one does). */
function sourceMismatches(input: OwnershipInput, wanted: string): string[] {
  const { application, sources, deploymentPath, baseBranch } = input;
  if (sources.length === 0) return [`Argo CD application ${application} has no source`];
  const sameRepo = sources.filter((s) => repositoryOf(s.repoURL) === wanted.toLowerCase());
  if (sameRepo.length === 0) {
    return [`Argo CD application ${application} reads ${sources.map((s) => s.repoURL).join(', ')}, but the PR would change ${wanted}`];
  }
  const holding = sameRepo.filter((s) => s.path !== undefined && holdsFile(s, deploymentPath));
  if (holding.length === 0) {
    const paths = sameRepo.map((s) => (s.path === undefined ? '(no path)' : describeSourcePath(s))).join(', ');
    return [`Argo CD application ${application} reads ${wanted} at ${paths}, which does not contain ${deploymentPath}`];
  }
  if (holding.some((s) => tracksBranch(s.targetRevision, baseBranch))) return [];
  const revisions = holding.map((s) => s.targetRevision ?? 'HEAD').join(', ');
  return [`Argo CD application ${application} reads ${wanted} at revision ${revisions}, but the PR goes to ${baseBranch}`];
}

/** `owner/repo` of a Git URL (https, ssh or scp-like), lower-cased; the host is not compared. */
export function repositoryOf(repoURL: string): string {
  const path = repoURL
    .trim()
    .replace(/^[a-z+]+:\/\/[^/]+\//i, '')
    .replace(/^[^@/]+@[^:]+:/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '');
  return path.split('/').slice(-2).join('/').toLowerCase();
}

function normalPath(path: string): string {
  const trimmed = path.trim().replace(/^\.\/+/, '').replace(/\/+$/, '');
  return trimmed === '.' ? '' : trimmed;
}

function holdsFile(source: ArgoSourceFacts, file: string): boolean {
  const dir = normalPath(source.path ?? '');
  const inside = dir === '' || file.startsWith(`${dir}/`);
  if (!inside) return false;
  // A plain directory source without recurse applies only the files directly in it.
  if (source.directoryRecurse === false) return !file.slice(dir === '' ? 0 : dir.length + 1).includes('/');
  return true;
}

function describeSourcePath(source: ArgoSourceFacts): string {
  const dir = normalPath(source.path ?? '') || '(the repository root)';
  return source.directoryRecurse === false ? `${dir} (a directory without recurse: subdirectories are not read)` : dir;
}

/** Whether a targetRevision follows the branch the PR goes to (empty and HEAD: the default branch). */
function tracksBranch(targetRevision: string | undefined, branch: string): boolean {
  const revision = (targetRevision ?? '').trim();
  return revision === '' || revision === 'HEAD' || revision === branch || revision === `refs/heads/${branch}`;
}
