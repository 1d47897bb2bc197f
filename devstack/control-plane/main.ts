/**
 * `npm run kube:install`: find or build kube-apiserver and kube-controller-manager (and find etcd).
 * `npm run kube:start`: run a control plane until Ctrl-C, with an admin kubeconfig written to
 * .kube-test/kubeconfig (for kubectl or `agentruns diagnose --kubeconfig`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { ensureKubeBinaries } from './binaries';
import { startControlPlane } from './control-plane';

const command = process.argv[2];
if (command === 'install') {
  const binaries = ensureKubeBinaries();
  for (const [name, path] of Object.entries(binaries)) console.log(`${name}: ${path}`);
} else if (command === 'start') {
  const plane = await startControlPlane();
  mkdirSync('.kube-test', { recursive: true });
  writeFileSync('.kube-test/kubeconfig', plane.adminKubeconfigYaml, { mode: 0o600 });
  console.log(`kube-apiserver ${plane.server} (ready in ${plane.timings.apiserverMs} ms); KUBECONFIG=.kube-test/kubeconfig`);
  const shutdown = () => void plane.stop().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} else {
  console.error('usage: control-plane/main.ts install|start');
  process.exit(2);
}
