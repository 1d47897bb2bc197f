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
 *
 * kubectl (k8s.io/kubernetes/cmd/kubectl, the same pinned version) is only for the bench's
 * runbook-by-kubectl measurement: `ensureKubectl` finds it as $KUBECTL or in the cache and otherwise
 * builds it there on demand. `ensureKubeBinaries` (`npm run kube:install`, CI) never builds it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  goBuild(go, names, names.map((name) => PACKAGES[name]), log);
}

/** The `go build -trimpath` of `packages` in the wrapper module (or a copy of it) into the cache's bin/, version-stamped. */
function goBuildCommand(names: string[], packages: string[], module: { dir: string; flags: string[] } = { dir: KUBE_BUILD_DIR, flags: [] }) {
  const bin = join(cacheDir(), 'bin');
  mkdirSync(bin, { recursive: true });
  const ldflags = versionLdflags(pinnedKubernetesVersion());
  return {
    args: ['build', '-trimpath', ...module.flags, ldflags, '-o', `${bin}/`, ...packages],
    options: { cwd: module.dir, env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim() } },
    started: `[agentruns] building ${names.join(', ')} from ${KUBE_BUILD_DIR} (go build, a few minutes on two cores, once)`,
    failed: (status: number | string | null) =>
      new Error(
        `could not build ${names.join(', ')}: (cd ${module.dir} && go build -trimpath ${module.flags.map((f) => `${f} `).join('')}'${ldflags}' -o ${bin}/ ${packages.join(' ')}) exited with ${status}`,
      ),
    built: (startedAt: number) => `[agentruns] built ${names.join(', ')} in ${Math.round((Date.now() - startedAt) / 1000)} s`,
  };
}

function goBuild(go: string, names: string[], packages: string[], log: (line: string) => void): void {
  const command = goBuildCommand(names, packages);
  const started = Date.now();
  log(command.started);
  const result = spawnSync(go, command.args, { ...command.options, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw command.failed(result.status ?? result.signal);
  log(command.built(started));
}

const KUBECTL_PACKAGE = 'k8s.io/kubernetes/cmd/kubectl';

/**
 * kubectl from $KUBECTL or the cache, without building anything. Not from PATH: the bench wants the
 * pinned version beside the pinned API server, not whatever kubectl the machine has.
 */
export function findKubectl(): string | undefined {
  const cached = join(cacheDir(), 'bin', 'kubectl');
  return fromEnv('KUBECTL') ?? (existsSync(cached) ? cached : undefined);
}

/**
 * kubectl of the pinned k8s.io/kubernetes version, built into the cache on first use (on demand:
 * only the bench's kubectl section asks for it, never `npm run kube:install` or CI), with the same
 * `go build` of the same wrapper module as the control plane. That module's go.sum holds what
 * kube-apiserver and kube-controller-manager import, not kubectl's own dependencies
 * (k8s.io/cli-runtime, kustomize, …), and it stays as it is: the build runs in a temporary copy of
 * go.mod and go.sum with `-mod=mod`, which adds them to the copy at the versions the pinned modules
 * ask for (the copy's replaces point k8s.io/kubectl and k8s.io/cli-runtime at their v0.x tags of the
 * same release). Go's build and module caches are shared with the control plane's build, so most of
 * it is already compiled. Asynchronous, unlike the control plane's: the caller has processes running
 * whose output it must keep reading.
 */
export async function ensureKubectl(log: (line: string) => void = (l) => console.error(l)): Promise<string> {
  const found = findKubectl();
  if (found) return found;
  const go = onPath('go');
  const bin = join(cacheDir(), 'bin');
  if (!go) throw new Error(`kubectl not found ($KUBECTL, ${bin}) and \`go\` is not installed to build it. Install Go, or point KUBECTL at a kubectl binary.`);
  const copy = mkdtempSync(join(tmpdir(), 'agentruns-kubectl-build-'));
  try {
    for (const file of ['go.mod', 'go.sum']) copyFileSync(join(KUBE_BUILD_DIR, file), join(copy, file));
    const command = goBuildCommand(['kubectl'], [KUBECTL_PACKAGE], { dir: copy, flags: ['-mod=mod'] });
    const started = Date.now();
    log(command.started);
    const child = spawn(go, command.args, { ...command.options, stdio: ['ignore', 'inherit', 'inherit'] });
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    if (code !== 0) throw command.failed(code ?? signal);
    log(command.built(started));
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  const built = findKubectl();
  if (!built) throw new Error(`kubectl is still missing after the build (expected in ${bin})`);
  return built;
}
