/**
 * Kubeconfigs for the test bed's API server: the admin's (a static token in system:masters) and a
 * ServiceAccount's, minted through the TokenRequest API exactly as a projected token in a pod
 * would be, so that a test talks to the real server with nothing but what RBAC grants that account.
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

export interface ClusterAccess {
  /** https://127.0.0.1:PORT */
  server: string;
  /** PEM of the CA that signed the API server's certificate. */
  caPem: string;
}

/** A kubeconfig document (YAML) for a bearer token. */
export function tokenKubeconfigYaml(cluster: ClusterAccess, user: string, token: string, namespace = 'default'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'agentruns-test', cluster: { server: cluster.server, 'certificate-authority-data': Buffer.from(cluster.caPem).toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: user, context: { cluster: 'agentruns-test', user, namespace } }],
    'current-context': user,
    preferences: {},
  });
}

export function kubeConfigFromYaml(yaml: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(yaml);
  return kc;
}

/** The server and CA of a kubeconfig's current cluster (to build other users' kubeconfigs). */
export function clusterAccessOf(kc: KubeConfig): ClusterAccess {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const caPem = cluster.caData ? Buffer.from(cluster.caData, 'base64').toString('utf8') : '';
  return { server: cluster.server, caPem };
}

/**
 * A kubeconfig carrying a fresh token of ServiceAccount `namespace/name` (TokenRequest, default one
 * hour), minted with `admin`.
 */
export async function serviceAccountKubeConfig(
  admin: KubeConfig,
  account: { namespace: string; name: string },
  expirationSeconds = 3600,
): Promise<KubeConfig> {
  const core = admin.makeApiClient(CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    name: account.name,
    namespace: account.namespace,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`TokenRequest for ${account.namespace}/${account.name} returned no token`);
  return kubeConfigFromYaml(tokenKubeconfigYaml(clusterAccessOf(admin), `system:serviceaccount:${account.namespace}:${account.name}`, token));
}
