/**
 * The activity proxies of the incident workflow, one per kind of work, each with its own bounded
 * timeouts and retries. Named failures listed in NON_RETRYABLE are permanent: retrying them cannot
 * help (a 404, a 403, bad input, a conflict), so they fail at once with their message.
 *
 * A lost worker costs seconds, never a start-to-close timeout: every activity heartbeats while it
 * runs (activities/context.ts keepAlive, every second), and every proxy has a heartbeat timeout of
 * {@link HEARTBEAT_TIMEOUT}, so the next worker gets the activity that much after the crash. The
 * start-to-close timeouts bound a live worker's slow calls instead (each client call has its own
 * deadline too), and the retry policies bound what a persistent outage costs.
 *
 * Every call carries a one-line summary ({@link SUMMARIES}) in its user metadata, so the event
 * history in the Temporal Web UI reads as the runbook's steps ("read Deployment torghut/torghut-ws",
 * "probe /readyz on torghut-ws-…", "merge PR #12"). A summary is metadata, not a command the
 * replayer compares: incidents recorded without summaries replay unchanged.
 */
import { proxyActivities, type ActivityInterfaceFor, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../../activities';

type Summaries = { [K in keyof Activities]?: (...args: Parameters<Activities[K]>) => string };

/** What each activity does, in the runbook's words, from its own input. */
export const SUMMARIES: Summaries = {
  resolveRunbook: ({ runbookId }) => `resolve runbook ${runbookId} from the worker's config`,
  getDeploymentFacts: (t) => `read Deployment ${t.namespace}/${t.deployment}`,
  listPods: (t) => `list pods of ${t.deployment} (${t.podSelector})`,
  listEvents: (t) => `read recent events of ${t.deployment} and its pods`,
  tailLogs: (t) => `tail ${t.logTailLines} log lines of ${t.deployment}-… (${t.container})`,
  probePods: (t) => `probe ${t.health.livenessPath} and ${t.health.readinessPath} on ${t.deployment}-…`,
  checkKafkaCredentials: (t) => `check KafkaUser ${t.kafkaUser ?? t.kafkaSecret} and Secret ${t.kafkaSecret} exist (metadata only)`,
  readGitOpsFacts: (i) => `read ${i.deploymentPath} at ${i.owner}/${i.repo}@${i.ref}`,
  classifyIncident: () => 'classify: readiness error_class, log evidence, replicas',
  lastRestartOfTarget: () => 'look up earlier restarts of this target (cool-down)',
  authenticateDecision: ({ origin, slack }) =>
    `authenticate the ${origin.kind === 'signal' ? `\`${origin.signalName}\` signal #${origin.ordinal}` : '`decide` Update'}${slack ? ' (Slack proof)' : ''}`,
  postIncidentMessage: (_state, opts) => `post the incident to Slack ${opts?.channel ?? ''}`.trim(),
  updateIncidentMessage: ({ state }) => `update the Slack message: ${state.outcome ?? state.phase}`,
  lookAtTarget: (t) => `pre-flight: readiness, replicas and restartedAt of ${t.deployment} right before acting`,
  openRestartPullRequest: (i) => `open PR in ${i.owner}/${i.repo}: bump restartedAt${i.expectedReplicas !== undefined ? `, replicas ${i.expectedReplicas}` : ''}${i.dryRun ? ' (dry run)' : ''}`,
  mergePullRequest: (i) => `merge PR #${typeof i === 'number' ? i : (i.pr?.number ?? i.number ?? '?')}`,
  watchMerge: (i) => `wait for merge of PR #${i.pr.number} (${Math.round(i.windowMs / 1000)} s window)`,
  closePullRequest: (i) => `close PR #${i.pr.number} with a comment`,
  openRevertPullRequest: (i) => `open the revert PR of #${i.pr.number}`,
  syncArgoApplication: (i) => `Argo CD: sync ${i.application} (Deployment ${i.resources?.[0]?.name ?? ''} only)`,
  patchRestartedAt: (t) => `emergency: patch restartedAt on Deployment ${t.namespace}/${t.deployment}`,
  postThreadReply: (i) => `reply in the Slack thread: ${i.key}`,
  watchStability: (i) => `watch ${i.target.deployment}'s new pods stay Ready without restarts (${Math.round(i.windowMs / 1000)} s window)`,
  checkPromql: (i) => `status check: PromQL ${i.query}`,
  postIncidentReport: ({ state }) =>
    `post the incident report${state.pullRequest?.number ? ` on PR #${state.pullRequest.number}` : ''}${state.slack ? ' and in the Slack thread' : ''}`,
  verifyRestart: (i) =>
    `verify: rollout of ${i.target.deployment}${i.restartedAt ? ` with restartedAt ${i.restartedAt}` : ''} and ${i.target.health.readinessPath} ${i.expectReady ? '200' : 'answered'} on its new pods`,
};

/**
 * The proxy with each call's summary filled in (`executeWithOptions`). An activity without an entry
 * in SUMMARIES is called as it is, so a new activity is never held up by a missing summary.
 */
function summarised(proxy: ActivityInterfaceFor<Activities>): ActivityInterfaceFor<Activities> {
  return new Proxy(proxy, {
    get(target, name, receiver) {
      const fn = Reflect.get(target, name, receiver) as unknown;
      const summary = typeof name === 'string' ? (SUMMARIES as Record<string, ((...args: unknown[]) => string) | undefined>)[name] : undefined;
      if (!summary) return fn;
      const proxied = fn as WithOptions;
      const withOptions = (options: ActivityOptions, args: unknown[]) => proxied.executeWithOptions(options, args);
      return Object.assign((...args: unknown[]) => withOptions({ summary: oneLine(summary(...args)) }, args), { executeWithOptions: withOptions });
    },
  });
}

interface WithOptions {
  executeWithOptions(options: ActivityOptions, args: unknown[]): Promise<unknown>;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 200);
}

export const NON_RETRYABLE = ['NotFoundError', 'NotAllowedError', 'InputError', 'ConflictError'];

/**
 * The server declares the worker lost this long after the last heartbeat it got. The worker sends
 * one every `HEARTBEAT_THROTTLE` (worker/create-worker.ts: 2 s), so a loaded worker has 3 s of
 * margin before a false timeout, and a crashed one costs at most this plus the first retry interval.
 */
export const HEARTBEAT_TIMEOUT = '5 seconds';

/** The worker's own records (config it loaded, history identities): fast, local, retried a few times. */
export const trust = summarised(proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '500 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
}));

const readOnly: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
};
/** Read-only diagnosis sources and the classifier. */
export const diag = summarised(proxyActivities<Activities>(readOnly));

/**
 * Writes (PR, merge, close, patch): idempotent, so a retry after a lost answer never acts twice.
 * Inside an attempt the GitHub client retries a 5xx twice (1 s, 4 s) and waits out rate limits of up
 * to 30 s each (heartbeating); so a persistent 5xx fails after three attempts in about 20 s, while a
 * rate limit too long to wait inside an attempt is retried after GitHub's own `retry-after`, within
 * the schedule-to-close bound.
 */
export const act = summarised(proxyActivities<Activities>({
  startToCloseTimeout: '3 minutes',
  scheduleToCloseTimeout: '15 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
}));

/** Slack is a courtesy channel: a failure is noted in the state, never fails the incident. */
export const notify = summarised(proxyActivities<Activities>({
  startToCloseTimeout: '20 seconds',
  scheduleToCloseTimeout: '1 minute',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
}));

/**
 * The windows of the long waits (merge, verification; activities/waits.ts): at most a minute each,
 * heartbeating every few seconds, so a crashed worker's window moves to the next worker within the
 * heartbeat timeout, and a window cut short by a worker rollout is simply followed by the next.
 */
export const watch = summarised(proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
}));

/**
 * The Argo CD sync, which waits for its own operation, heartbeating every poll: a retry (a failed
 * poll, a lost worker) finds the operation it requested instead of requesting another.
 */
export function argo(syncTimeoutMs: number) {
  return summarised(
    proxyActivities<Activities>({
      startToCloseTimeout: syncTimeoutMs + 60_000,
      heartbeatTimeout: HEARTBEAT_TIMEOUT,
      retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
    }),
  );
}
