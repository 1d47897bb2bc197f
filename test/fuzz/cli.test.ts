/**
 * The `agentruns` command line under hostile arguments and files. In process (many runs): the
 * offline commands `classify` and `restart-patch` with generated flags and generated or mutated
 * input files throw nothing but a CliError or node's own argument error (which `main` turns into
 * exit 2). The real binary (a few runs, each a Node start-up): any command with any arguments exits
 * 0, 1 or 2 with a message and no stack trace, starts no workflow on the dev server, and prints a
 * bounded output.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { classifyCommand } from '../../cli/commands/classify';
import { restartPatchCommand } from '../../cli/commands/restart-patch';
import { CliError } from '../../cli/errors';
import { torghutGitOpsTree, TORGHUT_DEPLOYMENT_PATH } from '../../sim/github/seed-tree';
import { describeRun, runCli } from '../support/cli';
import { uniqueTaskQueue } from '../support/temporal';
import { fuzzCount, fuzzParams } from './support/fuzz-runs';

const dir = mkdtempSync(join(tmpdir(), 'agentruns-fuzz-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MANIFEST = torghutGitOpsTree()[TORGHUT_DEPLOYMENT_PATH]!;
const junk = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.lorem(), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')));
/** A file's content: junk, JSON, a readiness body, a log tail, the GitOps manifest edited. */
const content = fc.oneof(
  junk,
  fc.jsonValue().map((j) => JSON.stringify(j) ?? ''),
  fc.constant('{"status":"not_ready","error_class":"alpaca_auth","gates":{"alpaca_ws":false}}'),
  fc.constant('<<< [{"T":"error","code":406,"msg":"connection limit exceeded"}]\n'),
  fc.tuple(fc.nat(), fc.nat({ max: 40 }), junk).map(([at, n, j]) => MANIFEST.slice(0, at % MANIFEST.length) + j + MANIFEST.slice((at % MANIFEST.length) + n)),
  fc.constant(MANIFEST),
);

let fileSeq = 0;
/** A path: a fresh file with generated content, a missing file, or a directory. */
const path = fc.oneof({ weight: 4, arbitrary: content.map((text) => {
  const p = join(dir, `in-${fileSeq++}.txt`);
  writeFileSync(p, text);
  return p;
}) }, fc.constant(join(dir, 'missing.txt')), fc.constant(dir));

const value = fc.oneof(path, junk, fc.constantFrom('', '-1', '0', '1', '2', '503', '999', '1e3', '0x10', '2026-02-09T14:00:00Z', 'restart', 'rollback', 'oncall-alice'));
const flag = fc.constantFrom('--readyz', '--logs', '--readyz-status', '--replicas', '--json', '--at', '--by', '--run', '--step', '--comment', '--limit', '--runbook', '--runbook-id', '--bogus', '-x', '--', '--json=1', '--help');
const argv = fc.array(fc.oneof({ weight: 3, arbitrary: fc.tuple(flag, value).map(([f, v]) => [f, v]) }, flag.map((f) => [f]), value.map((v) => [v])), { maxLength: 6 }).map((parts) => parts.flat());

/** node:util parseArgs' own errors (unknown flag, missing value, unexpected positional): `main` exits 2. */
const isArgumentError = (err: unknown) => err instanceof TypeError && String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS');

describe('offline commands in process: only a CliError or an argument error', () => {
  beforeAll(() => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterAll(() => vi.restoreAllMocks());

  it.each([
    ['classify', classifyCommand],
    ['restart-patch', restartPatchCommand],
  ] as const)('%s with any flags and files', async (_name, command) => {
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        const outcome = await command(args).then(
          (code) => ({ code }),
          (err: unknown) => ({ err }),
        );
        if ('code' in outcome) expect(outcome.code).toBe(0);
        else expect(outcome.err instanceof CliError || isArgumentError(outcome.err), `${args.join(' ')} → ${String(outcome.err)}`).toBe(true);
      }),
      fuzzParams({ scale: 0.5, min: 20 }),
    );
  });
});

describe('the real binary', () => {
  let connection: Connection;
  let client: Client;
  beforeAll(async () => {
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection, namespace: inject('temporalNamespace') });
  });
  afterAll(async () => connection?.close());

  it('any command with any arguments: exit 0, 1 or 2 with a message, no stack trace, no workflow started', async () => {
    const taskQueue = uniqueTaskQueue('fuzz-cli');
    const commands = fc.constantFrom('classify', 'restart-patch', 'approve', 'reject', 'status', 'list', 'help', 'bogus', '--help', '');
    const runs = fc.sample(fc.tuple(commands, argv), { seed: fuzzParams().seed!, numRuns: fuzzCount({ scale: 0.04, min: 6, max: 400 }) });
    const env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace'), TEMPORAL_TASK_QUEUE: taskQueue };
    for (let i = 0; i < runs.length; i += 2) {
      // An argv string cannot carry a NUL byte (the OS ends it there): what a process can be given.
      const batch = runs.slice(i, i + 2).map(([command, raw]) => {
        const args = raw.map((a) => a.replace(/\0/g, ''));
        return runCli(command ? [command, ...args] : args, { env, timeoutMs: 90_000 });
      });
      for (const result of await Promise.all(batch)) {
        const what = describeRun(result);
        expect([0, 1, 2], what).toContain(result.code);
        expect(result.stderr, what).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
        if (result.code !== 0) expect(result.stderr.trim().length, what).toBeGreaterThan(0);
        expect(result.stdout.length + result.stderr.length, what).toBeLessThan(256 * 1024);
      }
    }
    const started = await client.workflow.count(`TaskQueue = "${taskQueue}"`);
    expect(started.count).toBe(0);
  });
});
