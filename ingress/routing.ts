/**
 * Which runbook an alert belongs to: pure label matching, no I/O. A runbook's `alerts[]` lists
 * matchers; a matcher holds when every one of its labels is present on the alert with exactly that
 * value, and a runbook matches when any of its matchers holds. Runbooks are tried in config order
 * and the first match wins (as an Alertmanager route without `continue`). An alert nothing matches
 * is ignored with a reason that says what each runbook wanted, so a mislabelled rule is easy to fix.
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
