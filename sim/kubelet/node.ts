/**
 * The test kubelet's Node, registered as a kubelet registers itself: InternalIP 127.0.0.1 and the
 * port of its HTTPS endpoint in `status.daemonEndpoints.kubeletEndpoint`, which is where the API
 * server dials for `pods/log`. Ready, with room for the few pods a scenario runs. No heartbeats: the
 * test control plane runs no node lifecycle controller that would miss them.
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1NodeStatus } from '@kubernetes/client-node';

export const KUBELET_VERSION = 'v1.36.3-agentruns-test-kubelet';

function nodeStatus(port: number, now: Date): V1NodeStatus {
  const capacity = { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '20Gi' };
  return {
    addresses: [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: 'localhost' },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: port } },
    capacity,
    allocatable: capacity,
    conditions: [
      { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now },
    ],
    nodeInfo: {
      architecture: 'amd64',
      bootID: '',
      containerRuntimeVersion: 'agentruns://scenario',
      kernelVersion: '',
      kubeProxyVersion: '',
      kubeletVersion: KUBELET_VERSION,
      machineID: '',
      operatingSystem: 'linux',
      osImage: 'agentruns test kubelet',
      systemUUID: '',
    },
  };
}

/** Creates (or takes over) Node `name` and sets its status; returns a function that deletes it. */
export async function registerNode(kc: KubeConfig, name: string, kubeletPort: number): Promise<() => Promise<void>> {
  const core = kc.makeApiClient(CoreV1Api);
  const status = nodeStatus(kubeletPort, new Date());
  try {
    await core.createNode({ body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, 'agentruns.test/kubelet': 'true' } }, status } });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  // The create may keep or drop status depending on the server; set it explicitly either way.
  await core.patchNodeStatus({ name, body: { status } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  return async () => {
    await core.deleteNode({ name }).catch(() => undefined);
  };
}
