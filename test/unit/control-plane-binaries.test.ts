/**
 * The control plane's binaries are found in a fixed order and a missing one is an error that says
 * how to get it — the kube tests fail loudly, they never skip.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findEtcd, findKubeBinary, pinnedKubernetesVersion } from '../../devstack/control-plane/binaries';

const dirs: string[] = [];
afterEach(() => {
  vi.unstubAllEnvs();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fakeBinary(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentruns-bin-'));
  dirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

describe('finding the control plane binaries', () => {
  it('$KUBE_APISERVER first, then PATH, then the cache; a variable naming a missing file is an error', () => {
    const fromEnv = fakeBinary('kube-apiserver');
    const onPath = fakeBinary('kube-apiserver');
    const cache = mkdtempSync(join(tmpdir(), 'agentruns-cache-'));
    dirs.push(cache);
    vi.stubEnv('AGENTRUNS_CACHE_DIR', cache);
    vi.stubEnv('PATH', join(onPath, '..'));
    vi.stubEnv('KUBE_APISERVER', fromEnv);
    expect(findKubeBinary('kube-apiserver')).toBe(fromEnv);
    vi.stubEnv('KUBE_APISERVER', '');
    expect(findKubeBinary('kube-apiserver')).toBe(onPath);
    vi.stubEnv('PATH', '');
    expect(findKubeBinary('kube-apiserver')).toBeUndefined();
    vi.stubEnv('KUBE_CONTROLLER_MANAGER', '/nowhere/kube-controller-manager');
    expect(() => findKubeBinary('kube-controller-manager')).toThrow('KUBE_CONTROLLER_MANAGER=/nowhere/kube-controller-manager does not exist');
  });

  it('without etcd the error says to install Debian\'s etcd-server', () => {
    vi.stubEnv('ETCD', '');
    vi.stubEnv('PATH', '');
    expect(() => findEtcd()).toThrow(/apt-get install etcd-server/);
  });

  it('builds the version the wrapper module pins', () => {
    expect(pinnedKubernetesVersion()).toBe('v1.36.3');
  });
});
