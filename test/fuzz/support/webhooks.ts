/** Alertmanager webhook bodies (payload version 4), generated: valid ones, to be mutated into hostile ones. */
import fc from 'fast-check';

const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,20}$/);
const labelValue = fc.string({ maxLength: 40 });
const rfc3339 = fc
  .date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

export interface AlertShape {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** A valid alert carrying at least `labels`. */
export function alertArb(labels: Record<string, string> = {}): fc.Arbitrary<AlertShape> {
  return fc.record({
    status: fc.constantFrom('firing' as const, 'resolved' as const),
    labels: fc.dictionary(labelName, labelValue, { maxKeys: 4 }).map((extra) => ({ alertname: 'TorghutWsNotReady', ...extra, ...labels })),
    annotations: fc.dictionary(labelName, fc.string({ maxLength: 80 }), { maxKeys: 3 }),
    startsAt: rfc3339,
    endsAt: fc.oneof(fc.constant('0001-01-01T00:00:00Z'), rfc3339),
    generatorURL: fc.constantFrom('', 'http://prometheus:9090/graph?g0.expr=probe_success'),
    fingerprint: fc.stringMatching(/^[0-9a-f]{16}$/),
  });
}

/** A valid webhook envelope around `alerts`. */
export function webhookArb(alerts: fc.Arbitrary<AlertShape[]>): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({
    version: fc.constant('4'),
    receiver: fc.constant('agentruns'),
    status: fc.constantFrom('firing', 'resolved'),
    groupKey: fc.constant('{}:{alertname="TorghutWsNotReady"}'),
    truncatedAlerts: fc.nat({ max: 3 }),
    groupLabels: fc.constant({ alertname: 'TorghutWsNotReady' }),
    commonLabels: fc.constant({ alertname: 'TorghutWsNotReady' }),
    commonAnnotations: fc.constant({}),
    externalURL: fc.constant('http://alertmanager:9093'),
    alerts,
  });
}

/**
 * Ways to break one alert so that the schema must refuse it: a required field gone, a field of the
 * wrong type, a status or time that is no status or time, a label that is not a string.
 */
export const alertBreakers: readonly [string, (a: Record<string, unknown>) => void][] = [
  ['no status', (a) => delete a.status],
  ['status not firing/resolved', (a) => (a.status = 'pending')],
  ['no labels', (a) => delete a.labels],
  ['labels not an object', (a) => (a.labels = ['alertname'])],
  ['a label that is not a string', (a) => (a.labels = { ...(a.labels as object), severity: 3 })],
  ['no startsAt', (a) => delete a.startsAt],
  ['startsAt not RFC 3339', (a) => (a.startsAt = 'yesterday')],
  ['endsAt a number', (a) => (a.endsAt = 1_700_000_000)],
  ['no fingerprint', (a) => delete a.fingerprint],
  ['empty fingerprint', (a) => (a.fingerprint = '')],
  ['annotations not strings', (a) => (a.annotations = { summary: { nested: true } })],
  ['generatorURL an object', (a) => (a.generatorURL = { href: 'x' })],
  ['the alert a string', (a) => Object.assign(a, { __replaceWith: 'alert' })],
];

/** `alert` broken by the n-th breaker (modulo). */
export function breakAlert(alert: AlertShape, n: number): unknown {
  const copy = structuredClone(alert) as unknown as Record<string, unknown>;
  const [, breaker] = alertBreakers[n % alertBreakers.length]!;
  breaker(copy);
  return '__replaceWith' in copy ? copy.__replaceWith : copy;
}
