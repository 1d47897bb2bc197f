/**
 * One real Kubernetes control plane for the `kube` test project: etcd, kube-apiserver and
 * kube-controller-manager (devstack/control-plane), the pod network the test kubelets put their pods
 * in (sim/kubelet/pod-network), and the KafkaUser CRD. A binary that cannot be found or built fails
 * the run, loudly: these tests never skip.
 *
 * With AGENTRUNS_KUBECONFIG set nothing is started: the (read-only) smoke test runs against that
 * cluster instead (vitest.config.ts then selects only test/kube/smoke.test.ts).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { ensureKubeBinaries } from '../../devstack/control-plane/binaries';
import { startControlPlane, type ControlPlane } from '../../devstack/control-plane/control-plane';
import { ensureKafkaUserCrd } from '../../devstack/real-cluster/kafka-user';
import { startPodNetwork, type PodNetwork } from '../../sim/kubelet/pod-network';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `local`: the control plane started here; `external`: the cluster of AGENTRUNS_KUBECONFIG. */
    kubeMode: 'local' | 'external';
    /** The admin kubeconfig (YAML) of the local control plane; empty in `external` mode. */
    kubeAdminKubeconfig: string;
    /** The path of AGENTRUNS_KUBECONFIG in `external` mode (loaded as a file: relative paths in it resolve). */
    kubeExternalKubeconfig: string;
    kubePodNetworkSocket: string;
    kubeletCertFile: string;
    kubeletKeyFile: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.AGENTRUNS_KUBECONFIG;
  if (external) {
    if (!existsSync(external)) throw new Error(`AGENTRUNS_KUBECONFIG=${external} does not exist`);
    project.provide('kubeMode', 'external');
    project.provide('kubeExternalKubeconfig', resolve(external));
    project.provide('kubeAdminKubeconfig', '');
    project.provide('kubePodNetworkSocket', '');
    project.provide('kubeletCertFile', '');
    project.provide('kubeletKeyFile', '');
    return () => Promise.resolve();
  }
  let plane: ControlPlane | undefined;
  let network: PodNetwork | undefined;
  const teardown = async () => {
    await network?.stop();
    await plane?.stop();
  };
  try {
    const started = Date.now();
    plane = await startControlPlane({ binaries: ensureKubeBinaries(), logDir: process.env.AGENTRUNS_KUBE_LOG_DIR });
    network = await startPodNetwork();
    await ensureKafkaUserCrd(plane.adminKubeConfig());
    const t = plane.timings;
    console.error(
      `[kube] control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(etcd ${t.etcdMs} ms, kube-apiserver ${t.apiserverMs} ms, kube-controller-manager ${t.controllerManagerMs} ms); pod network ${network.cidr} in ${network.namespace}`,
    );
    project.provide('kubeMode', 'local');
    project.provide('kubeExternalKubeconfig', '');
    project.provide('kubeAdminKubeconfig', plane.adminKubeconfigYaml);
    project.provide('kubePodNetworkSocket', network.socket);
    project.provide('kubeletCertFile', plane.certs.kubeletCert);
    project.provide('kubeletKeyFile', plane.certs.kubeletKey);
  } catch (err) {
    await teardown().catch(() => undefined);
    throw err;
  }
  return teardown;
}
