/**
 * A bare git repository in a temporary directory, driven through plumbing commands (no work tree,
 * no global config): the simulated GitHub's storage, so history is real and every `sha` the API
 * answers is a git object id (blob sha for contents, commit sha for refs and merges).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Identity {
  name: string;
  email: string;
}

export interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  author: Identity & { date: string };
  committer: Identity & { date: string };
  message: string;
}

const FULL_SHA = /^[0-9a-f]{40}$/;

class GitError extends Error {
  override name = 'GitError';
}

export class GitRepo {
  private constructor(readonly dir: string) {}

  /**
   * What a full object id names never changes (git objects are content-addressed), so the answers
   * about one — a path inside a commit, an object's type, a blob — are kept instead of asking git
   * again: each question is a process spawn, and a fleet of simulated repositories under load
   * (devstack/bench) would otherwise spend its time forking. Refs are always asked.
   */
  private readonly objects = new Map<string, Promise<unknown>>();

  private once<T>(key: string, ask: () => Promise<T>): Promise<T> {
    let answer = this.objects.get(key) as Promise<T> | undefined;
    if (!answer) {
      answer = ask();
      this.objects.set(key, answer);
      answer.catch(() => this.objects.delete(key));
    }
    return answer;
  }

  static async create(defaultBranch: string): Promise<GitRepo> {
    const dir = await mkdtemp(join(tmpdir(), 'agentruns-github-sim-'));
    const repo = new GitRepo(dir);
    await repo.git(['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`]);
    return repo;
  }

  async git(
    args: string[],
    options: { input?: Buffer | string; env?: Record<string, string>; allowCodes?: number[] } = {},
  ): Promise<{ stdout: Buffer; code: number }> {
    const child = spawn('git', args, {
      cwd: this.dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: this.dir,
        GIT_DIR: this.dir,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_TERMINAL_PROMPT: '0',
        LC_ALL: 'C',
        ...options.env,
      },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    if (child.stdin) {
      // A command may exit before reading all of stdin; its exit code tells what happened.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? -1));
    });
    if (code !== 0 && !(options.allowCodes ?? []).includes(code)) {
      throw new GitError(`git ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString('utf8').trim()}`);
    }
    return { stdout: Buffer.concat(out), code };
  }

  private async text(args: string[], allowCodes?: number[]): Promise<string> {
    return (await this.git(args, { allowCodes })).stdout.toString('utf8').trim();
  }

  /** The commit a ref, branch name or sha points at; null when it does not resolve. */
  async resolveCommit(ref: string): Promise<string | null> {
    if (ref.startsWith('-')) return null;
    const sha = await this.text(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], [1, 128]);
    return /^[0-9a-f]{40}$/.test(sha) ? sha : null;
  }

  async branchSha(branch: string): Promise<string | null> {
    const sha = await this.text(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], [1, 128]);
    return /^[0-9a-f]{40}$/.test(sha) ? sha : null;
  }

  async validRefName(ref: string): Promise<boolean> {
    return (await this.git(['check-ref-format', ref], { allowCodes: [1] })).code === 0;
  }

  /** What is at `path` in `commit`: a blob (file), a tree (directory), or nothing. */
  async entry(commit: string, path: string): Promise<{ type: 'blob' | 'tree'; sha: string } | null> {
    return FULL_SHA.test(commit) ? this.once(`entry ${commit}:${path}`, () => this.lookUpEntry(commit, path)) : this.lookUpEntry(commit, path);
  }

  private async lookUpEntry(commit: string, path: string): Promise<{ type: 'blob' | 'tree'; sha: string } | null> {
    const spec = `${commit}:${path}`;
    const sha = await this.text(['rev-parse', '--verify', '--quiet', spec], [1, 128]);
    if (!/^[0-9a-f]{40}$/.test(sha)) return null;
    const type = await this.once(`type ${sha}`, () => this.text(['cat-file', '-t', sha]));
    return type === 'blob' || type === 'tree' ? { type, sha } : null;
  }

  async blob(sha: string): Promise<Buffer> {
    const content = FULL_SHA.test(sha) ? await this.once(`blob ${sha}`, async () => (await this.git(['cat-file', 'blob', sha])).stdout) : (await this.git(['cat-file', 'blob', sha])).stdout;
    return Buffer.from(content);
  }

  async listTree(commit: string, path: string): Promise<Array<{ type: 'blob' | 'tree'; sha: string; size: number; path: string }>> {
    const out = await this.text(['ls-tree', '-l', '-z', commit, path === '' ? '.' : `${path}/`]);
    return out
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const [meta, name] = line.split('\t') as [string, string];
        const [, type, sha, size] = meta.split(/\s+/) as [string, string, string, string];
        return { type: type === 'tree' ? 'tree' : 'blob', sha, size: size === '-' ? 0 : Number(size), path: name };
      });
  }

  async commitInfo(sha: string): Promise<CommitInfo | null> {
    const resolved = await this.resolveCommit(sha);
    if (!resolved) return null;
    const raw = await this.text(['log', '-1', '--format=%T%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cn%x1f%ce%x1f%cI%x1f%B', resolved]);
    const [tree, parents, an, ae, ad, cn, ce, cd, message] = raw.split('\x1f');
    return {
      sha: resolved,
      tree: tree!,
      parents: parents ? parents.split(' ').filter(Boolean) : [],
      author: { name: an!, email: ae!, date: isoUtc(ad!) },
      committer: { name: cn!, email: ce!, date: isoUtc(cd!) },
      message: message ?? '',
    };
  }

  /** A new commit on top of `parent` (null: a root commit) replacing the given files. */
  async commitFiles(parent: string | null, files: Record<string, Buffer | string>, message: string, by: Identity, date?: string): Promise<CommitInfo> {
    const index = join(this.dir, `index-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    const env = { GIT_INDEX_FILE: index };
    try {
      if (parent) await this.git(['read-tree', parent], { env });
      else await this.git(['read-tree', '--empty'], { env });
      for (const [path, content] of Object.entries(files)) {
        const blob = (await this.git(['hash-object', '-w', '--stdin'], { input: content })).stdout.toString('utf8').trim();
        await this.git(['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], { env });
      }
      const tree = (await this.git(['write-tree'], { env })).stdout.toString('utf8').trim();
      return await this.commitTree(tree, parent ? [parent] : [], message, by, date);
    } finally {
      await rm(index, { force: true });
    }
  }

  async commitTree(tree: string, parents: string[], message: string, by: Identity, date?: string): Promise<CommitInfo> {
    const when = date ?? new Date().toISOString();
    const env = {
      GIT_AUTHOR_NAME: by.name,
      GIT_AUTHOR_EMAIL: by.email,
      GIT_AUTHOR_DATE: when,
      GIT_COMMITTER_NAME: by.name,
      GIT_COMMITTER_EMAIL: by.email,
      GIT_COMMITTER_DATE: when,
    };
    const args = ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p])];
    const sha = (await this.git(args, { input: message, env })).stdout.toString('utf8').trim();
    const info = await this.commitInfo(sha);
    if (!info) throw new GitError(`commit ${sha} vanished`);
    return info;
  }

  /** Deletes `ref` if it still points at `expected`; false when it did not. */
  async deleteRef(ref: string, expected: string): Promise<boolean> {
    const { code } = await this.git(['update-ref', '-d', ref, expected], { allowCodes: [1, 128] });
    return code === 0;
  }

  /** Moves a ref only if it still points at `expected` (null: only if it does not exist yet). */
  async updateRef(ref: string, sha: string, expected: string | null): Promise<boolean> {
    const { code } = await this.git(['update-ref', ref, sha, expected ?? '0'.repeat(40)], { allowCodes: [128] });
    return code === 0;
  }

  async mergeTree(base: string, head: string): Promise<{ tree: string; clean: boolean }> {
    const { stdout, code } = await this.git(['merge-tree', '--write-tree', '--no-messages', base, head], { allowCodes: [1] });
    return { tree: stdout.toString('utf8').split('\n')[0]!.trim(), clean: code === 0 };
  }

  async mergeBase(a: string, b: string): Promise<string | null> {
    const sha = await this.text(['merge-base', a, b], [1]);
    return /^[0-9a-f]{40}$/.test(sha) ? sha : null;
  }

  async countCommits(range: string): Promise<number> {
    return Number(await this.text(['rev-list', '--count', range]));
  }

  async diff(from: string, to: string, path?: string): Promise<string> {
    const args = ['diff', '--no-color', '--no-ext-diff', '--no-renames', from, to];
    if (path) args.push('--', path);
    return (await this.git(args)).stdout.toString('utf8');
  }

  async diffFiles(from: string, to: string): Promise<Array<{ path: string; status: string; additions: number; deletions: number; sha: string | null }>> {
    const numstat = await this.text(['diff', '--numstat', '--no-renames', '-z', from, to]);
    const raw = await this.text(['diff', '--raw', '--no-renames', '-z', '--no-abbrev', from, to]);
    const blobs = new Map<string, { status: string; sha: string }>();
    const rawParts = raw.split('\0').filter(Boolean);
    for (let i = 0; i + 1 < rawParts.length; i += 2) {
      const fields = rawParts[i]!.split(' ');
      blobs.set(rawParts[i + 1]!, { status: fields[4] ?? 'M', sha: fields[3] ?? '' });
    }
    return numstat
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const [add, del, path] = line.split('\t') as [string, string, string];
        const blob = blobs.get(path);
        const status = blob?.status === 'A' ? 'added' : blob?.status === 'D' ? 'removed' : 'modified';
        return { path, status, additions: Number(add) || 0, deletions: Number(del) || 0, sha: blob && status !== 'removed' ? blob.sha : null };
      });
  }

  /** The commits reachable from `ref` that touch `path`, newest first (`git log ref -- path`), since a moment. */
  async pathHistory(ref: string, path: string | null, since: string | null): Promise<string[]> {
    const args = ['log', '--format=%H', ...(since ? [`--since=${since}`] : []), ref, '--', ...(path ? [path] : [])];
    return (await this.text(args)).split('\n').filter(Boolean);
  }

  async log(ref: string): Promise<Array<{ sha: string; parents: string[]; subject: string }>> {
    const out = await this.text(['log', '--format=%H%x1f%P%x1f%s', ref]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [sha, parents, subject] = line.split('\x1f') as [string, string, string];
        return { sha, parents: parents.split(' ').filter(Boolean), subject };
      });
  }

  async destroy(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

function isoUtc(date: string): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
