/**
 * The runbook's own commands scripted with kubectl against a real API server (measurement 3, second
 * half). Not measured yet: it needs the control plane of devstack/control-plane/ seeded with the
 * torghut scenario and its test kubelet (devstack/real-cluster/), which this bench does not start —
 * so the row says why instead of showing a figure that was not taken.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, onPath } from '../tools';
import type { Figure } from './stats';

export type KubectlFigures = { figure: Figure; productDiagnose: Figure } | { notMeasured: string };

export function measureKubectl(): KubectlFigures {
  const apiserver = join(cacheDir(), 'bin', 'kube-apiserver');
  if (!existsSync(apiserver)) return { notMeasured: `no real API server (${apiserver} is not built: npm run kube:install)` };
  if (!onPath('kubectl')) return { notMeasured: 'kubectl is not on PATH' };
  return {
    notMeasured:
      'the real API server is built, but the bench does not yet seed the torghut scenario and its test kubelet on it (devstack/real-cluster/), so kubectl logs and the probe through the API have nothing to answer',
  };
}
