import { describe, expect, it } from 'vitest';
import { judgeOwnership, repositoryOf, type OwnershipInput } from '../../domain/argo-ownership';

const base: OwnershipInput = {
  application: 'torghut',
  namespace: 'torghut',
  deployment: 'torghut-ws',
  owner: 'proompteng',
  repo: 'lab',
  baseBranch: 'main',
  deploymentPath: 'argocd/applications/torghut/ws/deployment.yaml',
  live: { trackingId: 'torghut:apps/Deployment:torghut/torghut-ws', instanceLabel: null },
  sources: [{ repoURL: 'https://github.com/proompteng/lab.git', path: 'argocd/applications/torghut/ws', targetRevision: 'main' }],
};

describe('judgeOwnership: does Argo CD apply the file the restart PR changes?', () => {
  it('the runbook\'s application tracks the Deployment and reads the file on main → ok', () => {
    expect(judgeOwnership(base)).toMatchObject({ ok: true, mismatches: [], live: { managedBy: 'torghut', by: 'tracking-id' } });
  });

  it.each([
    ['https with .git', 'https://github.com/proompteng/lab.git'],
    ['https without .git, trailing slash', 'https://github.com/ProompTeng/Lab/'],
    ['scp-style ssh', 'git@github.com:proompteng/lab.git'],
    ['ssh URL', 'ssh://git@github.example.com/proompteng/lab'],
  ])('a repository URL (%s) is the same owner/repo', (_name, url) => {
    expect(repositoryOf(url)).toBe('proompteng/lab');
  });

  it('an application outside Argo CD\'s namespace (<ns>_<app> in the tracking-id) still counts as torghut', () => {
    expect(judgeOwnership({ ...base, live: { trackingId: 'apps_torghut:apps/Deployment:torghut/torghut-ws', instanceLabel: null } }).ok).toBe(true);
  });

  it('the tracking-id wins over a Helm instance label naming the release', () => {
    expect(judgeOwnership({ ...base, live: { trackingId: base.live.trackingId, instanceLabel: 'torghut-ws' } }).ok).toBe(true);
  });

  it('a tracking-id copied from another resource → Argo CD does not track this Deployment', () => {
    const judged = judgeOwnership({ ...base, live: { trackingId: 'torghut:apps/Deployment:torghut/torghut-ta', instanceLabel: null } });
    expect(judged.mismatches).toEqual([
      "the live Deployment's argocd.argoproj.io/tracking-id names apps/Deployment:torghut/torghut-ta, not apps/Deployment:torghut/torghut-ws (copied from another resource?), so Argo CD does not track it",
    ]);
  });

  it('neither annotation nor label → no application manages it', () => {
    expect(judgeOwnership({ ...base, live: { trackingId: null, instanceLabel: null } }).mismatches).toEqual([
      'the live Deployment torghut/torghut-ws has neither argocd.argoproj.io/tracking-id nor app.kubernetes.io/instance: no Argo CD application manages it',
    ]);
  });

  it('a plain directory source without recurse does not read the subdirectory ws/', () => {
    const judged = judgeOwnership({ ...base, sources: [{ ...base.sources[0]!, path: 'argocd/applications/torghut', directoryRecurse: false }] });
    expect(judged.mismatches).toEqual([
      'Argo CD application torghut reads proompteng/lab at argocd/applications/torghut (a directory without recurse: subdirectories are not read), which does not contain argocd/applications/torghut/ws/deployment.yaml',
    ]);
    expect(judgeOwnership({ ...base, sources: [{ ...base.sources[0]!, path: './argocd/applications/torghut/ws/', directoryRecurse: false }] }).ok).toBe(true);
  });

  it('the application tracks another branch → the PR to main would never be applied', () => {
    const judged = judgeOwnership({ ...base, sources: [{ ...base.sources[0]!, targetRevision: 'release-2026' }] });
    expect(judged.mismatches).toEqual(['Argo CD application torghut reads proompteng/lab at revision release-2026, but the PR goes to main']);
    expect(judgeOwnership({ ...base, sources: [{ ...base.sources[0]!, targetRevision: 'HEAD' }] }).ok).toBe(true);
  });

  it('a path that merely starts with the same letters is not the directory', () => {
    const judged = judgeOwnership({ ...base, sources: [{ ...base.sources[0]!, path: 'argocd/applications/torghut/w' }] });
    expect(judged.ok).toBe(false);
  });
});
