/**
 * The simulated GitHub held to GitHub's official OpenAPI description (`@octokit/openapi`,
 * api.github.com). The production GitHub activities run through the real Octokit client against the
 * simulator — an incident's restart PR, its merge, the rollback PR, a close with a comment — and
 * every answer they get is validated strictly against the schema of that operation and status code
 * (a field GitHub's schema lacks, or a required one missing, fails). The error answers the product
 * must understand (404, 409 stale sha, 422 duplicate PR, 403 secondary rate limit with
 * `retry-after`) are provoked one by one and checked the same way. No Temporal server is needed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Octokit } from '@octokit/rest';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubActivities, createOctokit, type OpenRestartPullRequestInput } from '../../activities/github';
import { GitHubSim, secondaryRateLimit, TORGHUT_DEPLOYMENT_PATH, TORGHUT_SEALED_SECRETS_PATH } from '../../sim/github';
import { ApiContract, type ContractCheck } from '../support/api-contract';

const require = createRequire(import.meta.url);
const OPENAPI = require.resolve('@octokit/openapi/generated/api.github.com.json');
const OWNER = 'proompteng';
const REPO = 'lab';
const TOKEN = 'sim-token-for-contract-tests';
const WORKFLOW_ID = 'agentruns-torghut-ws-torghut';
const RUN_ID = '7c1d2e3f-0a1b-4c2d-8e3f-405162738495';

/** One answer the client received: the operation as Octokit names it (method + path template). */
interface Exchange {
  method: string;
  template: string;
  status: number;
  body: unknown;
  headers: Record<string, string | number | undefined>;
}

let contract: ApiContract;
const sims: GitHubSim[] = [];

beforeAll(() => {
  contract = ApiContract.fromFile('GitHub OpenAPI', OPENAPI, (c) => c.ref('basic-error'));
});

afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

/** Every answer an Octokit receives, recorded by a request hook (outside its retry/throttling plugins). */
function record(octokit: Octokit): Exchange[] {
  const exchanges: Exchange[] = [];
  octokit.hook.wrap('request', async (request, options) => {
    const base = { method: String(options.method), template: String(options.url) };
    try {
      const response = await request(options);
      exchanges.push({ ...base, status: response.status, body: response.data, headers: response.headers });
      return response;
    } catch (err) {
      const failure = err as { status?: number; response?: { data?: unknown; headers?: Exchange['headers'] } };
      if (typeof failure.status === 'number') {
        exchanges.push({ ...base, status: failure.status, body: failure.response?.data, headers: failure.response?.headers ?? {} });
      }
      throw err;
    }
  });
  return exchanges;
}

async function setup(options: { pace?: boolean } = {}) {
  const sim = await GitHubSim.start({ owner: OWNER, repo: REPO, token: TOKEN, replicas: 2 });
  sims.push(sim);
  const octokit = createOctokit({ baseUrl: sim.url, token: TOKEN, pace: options.pace ?? false, retryAfterBaseValue: 1 });
  const exchanges = record(octokit);
  const github = createGitHubActivities({ octokit, owner: OWNER, repo: REPO, baseBranch: 'main' });
  return { sim, octokit, exchanges, github };
}

/** An Octokit without the retry and throttling plugins: it sees every error answer as it comes. */
function plainOctokit(sim: GitHubSim, token = TOKEN): { octokit: Octokit; exchanges: Exchange[] } {
  const octokit = new Octokit({ baseUrl: sim.url, auth: token, log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } });
  return { octokit, exchanges: record(octokit) };
}

const restart = (overrides: Partial<OpenRestartPullRequestInput> = {}): OpenRestartPullRequestInput => ({
  workflowId: WORKFLOW_ID,
  runId: RUN_ID,
  deploymentPath: TORGHUT_DEPLOYMENT_PATH,
  restartedAt: '2026-02-08T10:00:00Z',
  expectedReplicas: 1,
  title: 'Restart torghut/torghut-ws (alpaca_406_second_connection)',
  body: 'Diagnosis: alpaca_406_second_connection, procedure A.',
  ...overrides,
});

const check = (e: Exchange): ContractCheck => contract.checkResponse(e.method, e.template, e.status, e.body);

/** The checks that failed, as readable lines (an empty list is a pass). */
function violations(exchanges: Exchange[]): string[] {
  return exchanges
    .map(check)
    .filter((c) => c.errors.length > 0)
    .map((c) => `${c.operation} [${c.against}]: ${c.errors.join('; ')}`);
}

/** `octokit.rest.<scope>.<method>` calls in the product's GitHub activities, as `METHOD /template`. */
function operationsTheProductCalls(): string[] {
  const source = readFileSync('activities/github.ts', 'utf8');
  const octokit = new Octokit();
  const rest = octokit.rest as unknown as Record<string, Record<string, { endpoint: { DEFAULTS: { method: string; url: string } } }>>;
  const calls = new Set([...source.matchAll(/octokit\.rest\.(\w+)\.(\w+)\(/g)].map((m) => `${m[1]}.${m[2]}`));
  return [...calls].map((call) => {
    const [scope, method] = call.split('.') as [string, string];
    const { DEFAULTS } = rest[scope]![method]!.endpoint;
    return `${DEFAULTS.method} ${DEFAULTS.url}`;
  });
}

describe('simulated GitHub answers the product consumes conform to GitHub\'s OpenAPI description', () => {
  it('an incident\'s restart PR, merge, rollback PR and close: every answer, success and 404 alike, is valid for its operation and status', async () => {
    const { sim, github, exchanges } = await setup();
    await github.readGitOpsFacts({ deploymentPath: TORGHUT_DEPLOYMENT_PATH, configMapPath: 'argocd/applications/torghut/ws/configmap.yaml' });
    // Procedure B's evidence: the sealed credentials' history since the failure began, one commit of it.
    await sim.commitFile({ branch: 'main', path: TORGHUT_SEALED_SECRETS_PATH, content: 'kind: SealedSecret\n', message: 'Rotate Alpaca key', date: '2026-02-08T09:40:00Z' });
    const history = await github.listFileCommits({ path: TORGHUT_SEALED_SECRETS_PATH, since: '2026-02-08T09:00:00Z' });
    expect(history.commits.map((c) => [c.author, c.at, c.subject])).toEqual([['On-call Human', '2026-02-08T09:40:00Z', 'Rotate Alpaca key']]);
    expect((await github.listFileCommits({ path: TORGHUT_SEALED_SECRETS_PATH, since: '2026-02-08T10:00:00Z' })).commits).toEqual([]);
    // Procedure C's evidence: KAFKA_BOOTSTRAP as Git declares it.
    expect(await github.readGitConfigMapValue({ path: 'argocd/applications/torghut/ws/configmap.yaml', key: 'KAFKA_BOOTSTRAP', name: 'torghut-ws' })).toEqual({ ref: 'main', value: 'kafka-kafka-bootstrap.kafka:9092' });
    const pr = await github.openRestartPullRequest(restart());
    await github.openRestartPullRequest(restart()); // the activity retried: finds the open PR
    await github.getPullRequest(pr.number);
    const merged = await github.mergePullRequest({ pr });
    await github.waitForMerge({ pr: merged, pollIntervalMs: 10, timeoutMs: 1000 });
    await github.openRestartPullRequest(restart()); // retried after the merge: finds the merged PR
    // The incident report at close, on the merged PR; retried: finds its own comment by the marker.
    const marker = `<!-- agentruns-incident-report ${WORKFLOW_ID} ${RUN_ID} -->`;
    const report = await github.commentOnPullRequest({ number: merged.number, marker, body: '## Incident report' });
    expect(await github.commentOnPullRequest({ number: merged.number, marker, body: '## Incident report' })).toEqual(report);
    expect(sim.comments(merged.number).map((c) => c.body)).toEqual([`${marker}\n## Incident report`]);
    const revert = await github.openRevertPullRequest({ workflowId: WORKFLOW_ID, runId: RUN_ID, pr: merged, deploymentPath: TORGHUT_DEPLOYMENT_PATH, body: 'verification failed' });
    await github.closePullRequest({ pr: revert, comment: 'Incident closed without a rollback.' });
    // A second incident whose PR is closed after a comment was already posted (comments listed non-empty).
    const second = await github.openRestartPullRequest(restart({ runId: 'a1b2c3d4-0000-4000-8000-000000000000', restartedAt: '2026-02-09T10:00:00Z' }));
    await sim.closePullRequest(second.number);
    await github.closePullRequest({ pr: second, comment: 'Closed by a human.' });
    // A third whose PR GitHub refuses for good (422): the branch it made for it is deleted again.
    sim.failNext({ method: 'POST', path: /\/pulls$/, status: 422, message: 'Validation Failed' });
    const refused = restart({ runId: 'b2c3d4e5-0000-4000-8000-000000000000', restartedAt: '2026-02-09T11:00:00Z' });
    await expect(github.openRestartPullRequest(refused)).rejects.toMatchObject({ type: 'InputError', message: expect.stringMatching(/; branch \S+ deleted$/) });

    expect(violations(exchanges)).toEqual([]);
    expect(exchanges.map(check).filter((c) => !c.documented)).toEqual([]);
    // The 404 the product relies on (a branch that does not exist yet) was among them.
    expect(exchanges.some((e) => e.template === '/repos/{owner}/{repo}/git/ref/{ref}' && e.status === 404)).toBe(true);

    // Every GitHub operation activities/github.ts calls was exercised and answered 2xx.
    const answered = new Set(exchanges.filter((e) => e.status < 300).map((e) => `${e.method} ${e.template}`));
    const called = operationsTheProductCalls();
    expect(called.length).toBeGreaterThanOrEqual(12);
    expect(called.filter((op) => !answered.has(op))).toEqual([]);
    for (const op of called) expect(contract.hasOperation(...(op.split(' ') as [string, string]))).toBe(true);
  });

  it('404 for a file or branch that does not exist is GitHub\'s Not Found body', async () => {
    const { sim } = await setup();
    const { octokit, exchanges } = plainOctokit(sim);
    await expect(octokit.rest.repos.getContent({ owner: OWNER, repo: REPO, path: 'no/such/file.yaml' })).rejects.toMatchObject({ status: 404 });
    await expect(octokit.rest.git.getRef({ owner: OWNER, repo: REPO, ref: 'heads/no-such-branch' })).rejects.toMatchObject({ status: 404 });
    await expect(octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: 99 })).rejects.toMatchObject({ status: 404 });
    expect(exchanges.map((e) => e.status)).toEqual([404, 404, 404]);
    expect(exchanges.map(check).map((c) => c.documented)).toEqual([true, true, true]);
    expect(violations(exchanges)).toEqual([]);
  });

  it('409 for a contents write with a stale sha (someone committed in between)', async () => {
    const { sim } = await setup();
    const { octokit, exchanges } = plainOctokit(sim);
    const { data } = await octokit.rest.repos.getContent({ owner: OWNER, repo: REPO, path: TORGHUT_DEPLOYMENT_PATH });
    const staleSha = (data as { sha: string }).sha;
    await sim.commitFile({ branch: 'main', path: TORGHUT_DEPLOYMENT_PATH, content: '# edited by a colleague\n', message: 'colleague edit' });
    await expect(
      octokit.rest.repos.createOrUpdateFileContents({ owner: OWNER, repo: REPO, path: TORGHUT_DEPLOYMENT_PATH, message: 'bump', content: 'YQ==', sha: staleSha, branch: 'main' }),
    ).rejects.toMatchObject({ status: 409 });
    const conflict = exchanges.at(-1)!;
    expect(check(conflict)).toMatchObject({ documented: true, errors: [] });
    expect(violations(exchanges)).toEqual([]);
  });

  it('422 for a second PR of the same branch, an existing branch, or a merge that is not possible (405) or whose head moved (409)', async () => {
    const { sim, github } = await setup();
    const pr = await github.openRestartPullRequest(restart());
    const { octokit, exchanges } = plainOctokit(sim);
    await expect(octokit.rest.pulls.create({ owner: OWNER, repo: REPO, head: pr.branch, base: 'main', title: 'again' })).rejects.toMatchObject({ status: 422 });
    const head = await sim.branchSha(pr.branch);
    await expect(octokit.rest.git.createRef({ owner: OWNER, repo: REPO, ref: `refs/heads/${pr.branch}`, sha: head! })).rejects.toMatchObject({ status: 422 });
    await expect(octokit.rest.pulls.merge({ owner: OWNER, repo: REPO, pull_number: pr.number, sha: 'f'.repeat(40) })).rejects.toMatchObject({ status: 409 });
    await sim.closePullRequest(pr.number);
    await expect(octokit.rest.pulls.merge({ owner: OWNER, repo: REPO, pull_number: pr.number })).rejects.toMatchObject({ status: 405 });

    expect(exchanges.map((e) => e.status)).toEqual([422, 422, 409, 405]);
    expect((exchanges[0]!.body as { errors: Array<{ message: string }> }).errors[0]!.message).toMatch(/already exists/);
    expect(exchanges.map(check).every((c) => c.documented)).toBe(true);
    expect(violations(exchanges)).toEqual([]);
  });

  it('403 secondary rate limit carries retry-after; the production client waits it out and opens exactly one PR', async () => {
    const { sim } = await setup();
    const { octokit, exchanges } = plainOctokit(sim);
    sim.failNext(secondaryRateLimit({ method: 'POST', path: /\/pulls$/, retryAfterSeconds: 7 }));
    await expect(octokit.rest.pulls.create({ owner: OWNER, repo: REPO, head: 'main', base: 'main', title: 'x' })).rejects.toMatchObject({ status: 403 });
    const limited = exchanges.at(-1)!;
    expect(limited.headers['retry-after']).toBe('7');
    expect((limited.body as { message: string }).message).toMatch(/secondary rate limit/);
    expect(check(limited)).toMatchObject({ documented: true, errors: [] });

    // The same answer to the real client of the activities (throttling plugin on, GitHub's pacing
    // too): it retries after retry-after (scaled to milliseconds here) and the incident still gets one PR.
    const throttled = await setup({ pace: true });
    throttled.sim.failNext(secondaryRateLimit({ method: 'POST', path: /\/pulls$/, retryAfterSeconds: 2 }));
    const pr = await throttled.github.openRestartPullRequest(restart());
    expect(pr.number).toBe(1);
    expect(throttled.sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls')).map((r) => r.status)).toEqual([403, 201]);
    expect(throttled.sim.pulls()).toHaveLength(1);
    expect(violations(throttled.exchanges)).toEqual([]);
  });

  it('401 for a bad token is GitHub\'s basic error (the operations do not document it: checked against basic-error)', async () => {
    const { sim } = await setup();
    const { octokit, exchanges } = plainOctokit(sim, 'wrong-token');
    await expect(octokit.rest.git.getRef({ owner: OWNER, repo: REPO, ref: 'heads/main' })).rejects.toMatchObject({ status: 401 });
    expect(check(exchanges[0]!)).toMatchObject({ documented: false, errors: [] });
    expect(exchanges[0]!.body).toEqual({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
  });

  it('routes the product does not call today answer in GitHub\'s shapes too (the repository, a PR\'s diff list)', async () => {
    const { sim, github } = await setup();
    const pr = await github.openRestartPullRequest(restart());
    const { octokit, exchanges } = plainOctokit(sim);
    await octokit.rest.repos.get({ owner: OWNER, repo: REPO });
    await octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: 'all' });
    await octokit.rest.pulls.listFiles({ owner: OWNER, repo: REPO, pull_number: pr.number });
    expect(exchanges.map((e) => e.status)).toEqual([200, 200, 200]);
    expect(violations(exchanges)).toEqual([]);
  });

  it('the check fails a simulator that answers a field GitHub\'s schema lacks, or misses a required one', async () => {
    const { sim, github } = await setup();
    const pr = await github.openRestartPullRequest(restart());
    const { octokit } = plainOctokit(sim);
    const { data } = await octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: pr.number });
    const op = ['GET', '/repos/{owner}/{repo}/pulls/{pull_number}', 200] as const;
    expect(contract.checkResponse(...op, data).errors).toEqual([]);

    const { head: _head, ...withoutHead } = data;
    const { login: _login, ...userWithoutLogin } = data.user;
    expect(contract.checkResponse(...op, { ...data, mergeable_by_robots: true }).errors).toEqual(['(body): field "mergeable_by_robots" is not in the description']);
    expect(contract.checkResponse(...op, withoutHead).errors).toEqual(['(body): required field "head" is missing']);
    expect(contract.checkResponse(...op, { ...data, user: userWithoutLogin }).errors).toEqual(['/user: required field "login" is missing']);
    expect(contract.checkResponse(...op, { ...data, merged_at: 12 }).errors.join()).toMatch(/\/merged_at/);
  });
});
