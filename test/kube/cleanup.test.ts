/**
 * Nothing of the control plane outlives the process that started it: etcd, kube-apiserver,
 * kube-controller-manager and the pod server lead their own process groups, recorded in
 * $AGENTRUNS_PID_DIR while they run, and the network namespace is recorded there too; when the
 * parent exits (or gets SIGTERM) without stopping them, its exit hooks kill the groups, delete the
 * namespace and remove the records.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/kube';

const CHILD = fileURLToPath(new URL('../fixtures/control-plane-child.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};
const namespaces = () => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;

describe('the control plane does not outlive the process that started it', () => {
  it.each(['exit', 'signal'])('the parent ends by %s: every process group, its record and the network namespace are gone', async (how) => {
    const dir = mkdtempSync(join(tmpdir(), 'agentruns-pids-'));
    dirs.push(dir);
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, how], { cwd: REPO_ROOT, env: { ...process.env, AGENTRUNS_PID_DIR: dir }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually('the child to start a control plane', () => {
        if (child.exitCode !== null) throw new Error(`the child exited with ${child.exitCode}: ${stderr}`);
        return Promise.resolve(stdout.includes('\n') ? true : undefined);
      }, 60_000, 200).catch((err: Error) => {
        throw new Error(`${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`);
      });
      const { netns } = JSON.parse(stdout.split('\n')[0]!) as { netns: string };
      const records = readdirSync(dir).sort();
      expect(records.map((f) => f.replace(/-\d+\.pid$/, ''))).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', `netns-${netns}.netns`, 'pod-server'].sort());
      const pids = records.filter((f) => f.endsWith('.pid')).map((f) => Number(readFileSync(join(dir, f), 'utf8')));
      expect(pids.every(alive)).toBe(true);
      expect(namespaces()).toContain(netns);

      if (how === 'signal') child.kill('SIGTERM');
      else child.stdin.write('go\n');
      expect(await exited).toBe(how === 'signal' ? 143 : 1);

      await eventually('every process group to be gone', () => Promise.resolve(pids.some(alive) ? undefined : true), 10_000, 100);
      expect(readdirSync(dir)).toEqual([]);
      expect(namespaces()).not.toContain(netns);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
