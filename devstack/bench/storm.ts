/**
 * The alert storm (measurement 6, and the load test test/e2e/alert-storm.test.ts): `posts`
 * Alertmanager webhook posts in `seconds`, open loop (a post every seconds/posts whatever the answers
 * do, as Alertmanager instances and their re-sends do), round-robin over the targets' namespaces,
 * each target re-sending the same few alert fingerprints. Every answer's status and latency is kept.
 */
import { torghutAlertPayload } from '../demo-alert';

export interface StormResult {
  posts: number;
  seconds: number;
  /** Posts sent per target namespace. */
  perTarget: Record<string, number>;
  statuses: Record<number, number>;
  latenciesMs: number[];
  /** Wall time from the first post to the last answer. */
  wallMs: number;
  /** Answers that were no HTTP answer at all (connection refused, reset). */
  errors: string[];
}

export async function alertStorm(options: { url: string; token: string; namespaces: string[]; posts: number; seconds: number; fingerprintsPerTarget?: number }): Promise<StormResult> {
  const { namespaces, posts } = options;
  const every = (options.seconds * 1000) / posts;
  const perTarget: Record<string, number> = {};
  const statuses: Record<number, number> = {};
  const latenciesMs: number[] = [];
  const errors: string[] = [];
  const began = performance.now();
  const sent: Promise<void>[] = [];
  for (let i = 0; i < posts; i++) {
    const wait = began + i * every - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const namespace = namespaces[i % namespaces.length]!;
    perTarget[namespace] = (perTarget[namespace] ?? 0) + 1;
    const fingerprint = `storm-${namespace}-${Math.floor(i / namespaces.length) % (options.fingerprintsPerTarget ?? 5)}`;
    const body = JSON.stringify(torghutAlertPayload({ namespace, fingerprint }));
    const started = performance.now();
    sent.push(
      fetch(`${options.url}/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
        body,
      }).then(
        async (response) => {
          await response.arrayBuffer();
          latenciesMs.push(performance.now() - started);
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        },
        (err: unknown) => {
          errors.push(String((err as Error).cause ?? err));
        },
      ),
    );
  }
  await Promise.all(sent);
  return { posts, seconds: options.seconds, perTarget, statuses, latenciesMs, wallMs: performance.now() - began, errors };
}
