/**
 * The torghut environment with a real Kubernetes API server instead of the in-process simulator:
 * the simulated GitHub, Argo CD and Slack of devstack/sim-environment, where an Argo CD sync
 * server-side applies the merged deployment.yaml to the real API server (into the Application's
 * destination namespace, as Argo CD does) — so the real Deployment controller rolls out a new
 * ReplicaSet and the test kubelet plays its pods. Argo CD's health of the Deployment is read from
 * the real status, the way Argo CD's own health check reads it: Healthy once the rollout is
 * complete, Progressing before.
 *
 * The worker's activities get `workerKubeConfig` (in the tests: the ServiceAccount bound by the
 * shipped RBAC), Argo CD applies with its own `argoKubeConfig` (its controller's credentials).
 */
import { AppsV1Api, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import type { Activities } from '../../activities';
import { TRACKING_ID_ANNOTATION, trackingIdOf } from '../../domain/argo-ownership';
import { RESTARTED_AT_ANNOTATION } from '../../domain/diagnosis';
import type { RunbookConfig } from '../../domain/runbook-config';
import { startGitOpsSystems, type GitOpsSystems } from '../sim-environment';
import { applyObjects, parseManifests } from './manifests';
import { ARGO_FIELD_MANAGER } from './seed-scenario';

export interface RealClusterEnvironmentOptions {
  runbook: RunbookConfig;
  argoKubeConfig: KubeConfig;
  workerKubeConfig: KubeConfig;
  /** Verification poll interval (default 500 ms). */
  verifyPollIntervalMs?: number;
}

export interface RealClusterEnvironment extends Omit<GitOpsSystems, 'activities'> {
  runbook: RunbookConfig;
  activities: Activities;
  /** Manifests Argo CD applied, in order. */
  applied: V1Deployment[];
}

/** Argo CD's health assessment of a Deployment (gitops-engine): Healthy once the rollout is complete. */
export function deploymentHealth(d: V1Deployment): 'Healthy' | 'Progressing' | 'Degraded' {
  const s = d.status;
  if (s?.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded')) return 'Degraded';
  const replicas = d.spec?.replicas ?? 1;
  const complete =
    (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s?.updatedReplicas ?? 0) >= replicas &&
    (s?.replicas ?? 0) <= (s?.updatedReplicas ?? 0) &&
    (s?.availableReplicas ?? 0) >= (s?.updatedReplicas ?? 0);
  return complete ? 'Healthy' : 'Progressing';
}

export async function startRealClusterEnvironment(options: RealClusterEnvironmentOptions): Promise<RealClusterEnvironment> {
  const { runbook } = options;
  const { namespace, deployment: name } = runbook.target;
  const apps = options.argoKubeConfig.makeApiClient(AppsV1Api);
  const live = await apps.readNamespacedDeployment({ name, namespace });

  // Argo CD's health is read synchronously by the simulator: keep it current from the live status.
  let health: 'Healthy' | 'Progressing' | 'Degraded' = deploymentHealth(live);
  let stopped = false;
  const refresh = async (): Promise<void> => {
    while (!stopped) {
      health = await apps.readNamespacedDeployment({ name, namespace }).then(deploymentHealth, () => health);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const refreshing = refresh();

  const applied: V1Deployment[] = [];
  const systems = await startGitOpsSystems({
    runbook,
    live: { replicas: live.spec?.replicas ?? 1, restartedAt: live.spec?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION] ?? null },
    cluster: {
      async apply(manifest) {
        // As Argo CD applies: into the destination namespace, each object marked with its tracking-id.
        const application = runbook.argo?.application ?? 'torghut';
        const objects = parseManifests(manifest).map((object) => {
          const [group = ''] = (object.apiVersion ?? '').includes('/') ? (object.apiVersion ?? '').split('/') : [''];
          const tracking = trackingIdOf(application, { group, kind: object.kind ?? '', namespace, name: object.metadata?.name ?? '' });
          return { ...object, metadata: { ...object.metadata, namespace, annotations: { ...object.metadata?.annotations, [TRACKING_ID_ANNOTATION]: tracking } } };
        });
        const result = await applyObjects(options.argoKubeConfig, objects, ARGO_FIELD_MANAGER);
        applied.push(...(result as V1Deployment[]));
        health = 'Progressing';
      },
      health: () => health,
    },
  });
  return {
    github: systems.github,
    argo: systems.argo,
    slack: systems.slack,
    tokens: systems.tokens,
    decisionKey: systems.decisionKey,
    runbook,
    applied,
    activities: systems.activities(options.workerKubeConfig, options.verifyPollIntervalMs ?? 500),
    close: async () => {
      stopped = true;
      await refreshing;
      await systems.close();
    },
  };
}
