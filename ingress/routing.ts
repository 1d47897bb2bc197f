/**
 * Which runbook an alert belongs to: pure label matching, no I/O. A runbook's `alerts[]` lists
 * matchers; a matcher holds when every one of its labels is present on the alert with exactly that
 * value, and a runbook matches when any of its matchers holds. Runbooks are tried in config order
 * and the first match wins (as an Alertmanager route without `continue`). An alert nothing matches
 * is ignored with a reason that says what each runbook wanted, so a mislabelled rule is easy to fix.
 * The alerts of one request that match are grouped by target ({@link groupByTarget}).
 */
import type { RunbookConfig } from '../domain/runbook-config';

export type RouteResult<R extends Pick<RunbookConfig, 'id' | 'alerts'> = RunbookConfig> =
  | { kind: 'runbook'; runbook: R }
  | { kind: 'ignored'; reason: string };

/** The first label of `matcher` the alert does not satisfy, as `name=value (got …)`; null when all hold. */
function firstMismatch(labels: Readonly<Record<string, string>>, matcher: Readonly<Record<string, string>>): string | null {
  for (const [name, want] of Object.entries(matcher)) {
    const got = Object.hasOwn(labels, name) ? labels[name] : undefined;
    if (got !== want) return `${name}=${JSON.stringify(want)} (${got === undefined ? 'label missing' : `got ${JSON.stringify(got)}`})`;
  }
  return null;
}

export function routeAlert<R extends Pick<RunbookConfig, 'id' | 'alerts'>>(
  labels: Readonly<Record<string, string>>,
  runbooks: readonly R[],
): RouteResult<R> {
  if (runbooks.length === 0) return { kind: 'ignored', reason: 'no runbook is configured' };
  const misses: string[] = [];
  for (const runbook of runbooks) {
    if (runbook.alerts.length === 0) {
      misses.push(`${runbook.id} has no alert matchers`);
      continue;
    }
    let closest: string | null = null;
    for (const matcher of runbook.alerts) {
      // An empty matcher would match every alert; treat it as a config mistake, not a catch-all.
      if (Object.keys(matcher.labels).length === 0) continue;
      const miss = firstMismatch(labels, matcher.labels);
      if (miss === null) return { kind: 'runbook', runbook };
      closest ??= miss;
    }
    misses.push(`${runbook.id} needs ${closest ?? 'a non-empty matcher'}`);
  }
  const name = labels.alertname ? `alert ${labels.alertname}` : 'alert without alertname';
  const shown = misses.slice(0, 3).join('; ') + (misses.length > 3 ? `; and ${misses.length - 3} more runbooks` : '');
  return { kind: 'ignored', reason: `no runbook matches ${name}: ${shown}` };
}

/** The alerts of one request that belong to one runbook's target, firing and resolved, in body order. */
export interface TargetGroup<A, R> {
  runbook: R;
  firing: A[];
  resolved: A[];
}

/**
 * Routes every alert of a request and groups those that match by target, so the ingress makes one
 * Temporal open/attach (and at most one resolve) per target, however many alerts of that target
 * the group holds. A runbook names exactly one target, so the runbook is the key. Groups come in
 * the order of their first alert; alerts nothing matches are returned with their reason.
 */
export function groupByTarget<A extends { labels: Readonly<Record<string, string>>; status: 'firing' | 'resolved' }, R extends Pick<RunbookConfig, 'id' | 'alerts'>>(
  alerts: readonly A[],
  runbooks: readonly R[],
): { groups: TargetGroup<A, R>[]; ignored: { alert: A; reason: string }[] } {
  const groups = new Map<R, TargetGroup<A, R>>();
  const ignored: { alert: A; reason: string }[] = [];
  for (const alert of alerts) {
    const route = routeAlert(alert.labels, runbooks);
    if (route.kind === 'ignored') {
      ignored.push({ alert, reason: route.reason });
      continue;
    }
    let group = groups.get(route.runbook);
    if (!group) {
      group = { runbook: route.runbook, firing: [], resolved: [] };
      groups.set(route.runbook, group);
    }
    (alert.status === 'firing' ? group.firing : group.resolved).push(alert);
  }
  return { groups: [...groups.values()], ignored };
}
