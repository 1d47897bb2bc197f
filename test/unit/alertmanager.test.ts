import { describe, expect, it } from 'vitest';
import { parseAlertmanagerPayload, toAlertInfo } from '../../ingress/alertmanager';

/** A webhook body as Alertmanager 0.27 sends it (nanosecond timestamps, extra fields it may add later). */
function payload(overrides: Record<string, unknown> = {}, alert: Record<string, unknown> = {}) {
  return {
    receiver: 'agentruns',
    status: 'firing',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'TorghutWsNotReady', namespace: 'torghut', severity: 'page' },
        annotations: { summary: 'torghut-ws readiness 503 for 5m' },
        startsAt: '2026-03-01T10:15:30.123456789Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph?g0.expr=up',
        fingerprint: 'c0ffee1234567890',
        ...alert,
      },
    ],
    groupLabels: { alertname: 'TorghutWsNotReady' },
    commonLabels: { alertname: 'TorghutWsNotReady', namespace: 'torghut', severity: 'page' },
    commonAnnotations: { summary: 'torghut-ws readiness 503 for 5m' },
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: '{}:{alertname="TorghutWsNotReady"}',
    truncatedAlerts: 0,
    ...overrides,
  };
}

function issuesOf(body: unknown) {
  const result = parseAlertmanagerPayload(body);
  if (result.ok) throw new Error('expected the payload to be rejected');
  return result.issues;
}

describe('Alertmanager webhook payload (version 4)', () => {
  it('accepts what Alertmanager sends, nanosecond timestamps and unknown extra fields included', () => {
    const result = parseAlertmanagerPayload(payload({ someFutureField: true }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.payload.alerts[0]!.fingerprint).toBe('c0ffee1234567890');
    expect(result.payload).not.toHaveProperty('someFutureField');
  });

  it('accepts timestamps with a zone offset and a missing generatorURL and annotations', () => {
    const result = parseAlertmanagerPayload(
      payload({}, { startsAt: '2026-03-01T11:15:30+01:00', generatorURL: undefined, annotations: undefined }),
    );
    expect(result.ok).toBe(true);
  });

  it('maps an alert to what the workflow records', () => {
    const result = parseAlertmanagerPayload(payload());
    if (!result.ok) throw new Error('rejected');
    expect(toAlertInfo(result.payload.alerts[0]!)).toEqual({
      alertname: 'TorghutWsNotReady',
      fingerprint: 'c0ffee1234567890',
      startsAt: '2026-03-01T10:15:30.123456789Z',
      labels: { alertname: 'TorghutWsNotReady', namespace: 'torghut', severity: 'page' },
      annotations: { summary: 'torghut-ws readiness 503 for 5m' },
      generatorURL: 'http://prometheus:9090/graph?g0.expr=up',
    });
  });

  it('refuses another payload version, naming the field', () => {
    expect(issuesOf(payload({ version: '3' }))[0]!.path).toBe('version');
  });

  it('names the alert and field of a bad status', () => {
    const issues = issuesOf(payload({}, { status: 'pending' }));
    expect(issues.map((i) => i.path)).toEqual(['alerts.0.status']);
  });

  it('names a label whose value is not a string', () => {
    expect(issuesOf(payload({}, { labels: { alertname: 'X', replicas: 2 } }))[0]!.path).toBe('alerts.0.labels.replicas');
  });

  it('refuses a startsAt that is not an RFC 3339 time', () => {
    expect(issuesOf(payload({}, { startsAt: 'yesterday' }))[0]!.path).toBe('alerts.0.startsAt');
  });

  it('refuses an alert without fingerprint and a body without alerts, listing each path', () => {
    expect(issuesOf(payload({}, { fingerprint: undefined }))[0]!.path).toBe('alerts.0.fingerprint');
    expect(issuesOf(payload({ alerts: undefined }))[0]!.path).toBe('alerts');
  });

  it('refuses a JSON value that is not an object, at the root', () => {
    expect(issuesOf([1, 2, 3])[0]!.path).toBe('(root)');
  });

  it('reports at most five issues of a body that is wrong everywhere', () => {
    expect(issuesOf({}).length).toBe(5);
  });
});
