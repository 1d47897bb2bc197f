/**
 * The binaries of the real Kubernetes control plane of the test bed, found or built once.
 *
 * kube-apiserver and kube-controller-manager are found as $KUBE_APISERVER / $KUBE_CONTROLLER_MANAGER,
 * then on PATH, then in the project's cache (`${AGENTRUNS_CACHE_DIR:-~/.cache/agentruns}/bin`), and
 * otherwise built there from k8s.io/kubernetes (the version pinned by the wrapper module in
 * devstack/kube-build, whose replaces point each staging module at its published tag) with
 * `go build -trimpath` — a few minutes on two cores, once. etcd is $ETCD or `etcd` on PATH (Debian's
 * `etcd-server`); it is never built. Anything missing is an error that says how to get it: the tests
 * that need a control plane fail, they never skip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, onPath } from '../tools';

/** The wrapper Go module that pins k8s.io/kubernetes and its staging modules. */
export const KUBE_BUILD_DIR = fileURLToPath(new URL('../kube-build/', import.meta.url));
const PACKAGES = {
  'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
  'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
} as const;
type KubeBinary = keyof typeof PACKAGES;
const ENV: Record<KubeBinary, string> = { 'kube-apiserver': 'KUBE_APISERVER', 'kube-controller-manager': 'KUBE_CONTROLLER_MANAGER' };

export interface ControlPlaneBinaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
}

function fromEnv(variable: string): string | undefined {
  const value = process.env[variable];
  if (!value) return undefined;
  if (!existsSync(value)) throw new Error(`${variable}=${value} does not exist`);
  return value;
}

/** A kube binary from the environment, PATH or the cache, without building anything. */
export function findKubeBinary(name: KubeBinary): string | undefined {
  const cached = join(cacheDir(), 'bin', name);
  return fromEnv(ENV[name]) ?? onPath(name) ?? (existsSync(cached) ? cached : undefined);
}

/** etcd from $ETCD or PATH; an error telling how to install it otherwise. */
export function findEtcd(): string {
  const found = fromEnv('ETCD') ?? onPath('etcd');
  if (found) return found;
  throw new Error("etcd not found ($ETCD, PATH): install Debian's etcd server with `apt-get install etcd-server` (or set ETCD to an etcd 3.4+ binary)");
}

/**
 * Finds kube-apiserver and kube-controller-manager, building the missing ones with one
 * `go build` into the cache. Synchronous, like the Temporal CLI install: it runs before anything else.
 */
export function ensureKubeBinaries(log: (line: string) => void = (l) => console.error(l)): ControlPlaneBinaries {
  const etcd = findEtcd();
  const missing = (Object.keys(PACKAGES) as KubeBinary[]).filter((name) => !findKubeBinary(name));
  if (missing.length > 0) buildKubeBinaries(missing, log);
  const get = (name: KubeBinary): string => {
    const found = findKubeBinary(name);
    if (!found) throw new Error(`${name} is still missing after the build (expected in ${join(cacheDir(), 'bin')})`);
    return found;
  };
  return { etcd, kubeApiserver: get('kube-apiserver'), kubeControllerManager: get('kube-controller-manager') };
}

/** The k8s.io/kubernetes version the wrapper module pins (its go.mod), e.g. v1.36.3. */
export function pinnedKubernetesVersion(): string {
  const m = /^\s*k8s\.io\/kubernetes\s+(v\d+\.\d+\.\d+\S*)/m.exec(readFileSync(join(KUBE_BUILD_DIR, 'go.mod'), 'utf8'));
  if (!m) throw new Error(`${KUBE_BUILD_DIR}go.mod does not require k8s.io/kubernetes`);
  return m[1]!;
}

/** Stamps the version the binaries report (`--version`, the API server's /version), as the release build does. */
function versionLdflags(version: string): string {
  const [major, minor] = version.replace(/^v/, '').split('.');
  const pkg = 'k8s.io/component-base/version';
  return `-ldflags=-X ${pkg}.gitVersion=${version} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor} -X ${pkg}.gitTreeState=clean`;
}

function buildKubeBinaries(names: KubeBinary[], log: (line: string) => void): void {
  const go = onPath('go');
  const bin = join(cacheDir(), 'bin');
  if (!go) {
    throw new Error(
      `${names.join(' and ')} not found (${names.map((n) => `$${ENV[n]}`).join(', ')}, PATH, ${bin}) and \`go\` is not installed to build ` +
        `${names.length > 1 ? 'them' : 'it'}. Install Go, or point ${names.map((n) => ENV[n]).join(' / ')} at the binaries.`,
    );
  }
  mkdirSync(bin, { recursive: true });
  const packages = names.map((name) => PACKAGES[name]);
  const started = Date.now();
  log(`[agentruns] building ${names.join(', ')} from ${KUBE_BUILD_DIR} (go build, a few minutes on two cores, once)`);
  const ldflags = versionLdflags(pinnedKubernetesVersion());
  const result = spawnSync(go, ['build', '-trimpath', ldflags, '-o', `${bin}/`, ...packages], {
    cwd: KUBE_BUILD_DIR,
    env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim() },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) {
    throw new Error(`could not build ${names.join(', ')}: (cd ${KUBE_BUILD_DIR} && go build -trimpath '${ldflags}' -o ${bin}/ ${packages.join(' ')}) exited with ${result.status ?? result.signal}`);
  }
  log(`[agentruns] built ${names.join(', ')} in ${Math.round((Date.now() - started) / 1000)} s`);
}
