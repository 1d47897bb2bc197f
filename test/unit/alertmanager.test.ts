import { describe, expect, it } from 'vitest';
import { MAX_ALERTS_READ, parseAlertmanagerPayload, toAlertInfo } from '../../ingress/alertmanager';

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

function read(body: unknown) {
  const result = parseAlertmanagerPayload(body);
  if (!result.ok) throw new Error(`expected the envelope to be accepted: ${JSON.stringify(result.issues)}`);
  return result;
}

describe('Alertmanager webhook payload (version 4)', () => {
  it('accepts what Alertmanager sends, nanosecond timestamps and unknown extra fields included', () => {
    const result = read(payload({ someFutureField: true }));
    expect(result.payload.alerts[0]!.fingerprint).toBe('c0ffee1234567890');
    expect(result.payload.alerts[0]!.index).toBe(0);
    expect(result.invalid).toEqual([]);
    expect(result.payload).not.toHaveProperty('someFutureField');
  });

  it('accepts timestamps with a zone offset and a missing generatorURL and annotations', () => {
    const result = read(payload({}, { startsAt: '2026-03-01T11:15:30+01:00', generatorURL: undefined, annotations: undefined }));
    expect(result.invalid).toEqual([]);
    expect(result.payload.alerts).toHaveLength(1);
  });

  it('maps an alert to what the workflow records', () => {
    const result = read(payload());
    expect(toAlertInfo(result.payload.alerts[0]!)).toEqual({
      alertname: 'TorghutWsNotReady',
      fingerprint: 'c0ffee1234567890',
      startsAt: '2026-03-01T10:15:30.123456789Z',
      labels: { alertname: 'TorghutWsNotReady', namespace: 'torghut', severity: 'page' },
      annotations: { summary: 'torghut-ws readiness 503 for 5m' },
      generatorURL: 'http://prometheus:9090/graph?g0.expr=up',
    });
  });
});

describe('the envelope is checked as a whole: a body that is not an Alertmanager webhook is refused', () => {
  it('refuses another payload version, naming the field', () => {
    expect(issuesOf(payload({ version: '3' }))[0]!.path).toBe('version');
  });

  it('refuses a group status other than firing/resolved and a body without alerts', () => {
    expect(issuesOf(payload({ status: 'pending' }))[0]!.path).toBe('status');
    expect(issuesOf(payload({ alerts: undefined }))[0]!.path).toBe('alerts');
    expect(issuesOf(payload({ alerts: { 0: {} } }))[0]!.path).toBe('alerts');
  });

  it('refuses a JSON value that is not an object, at the root', () => {
    expect(issuesOf([1, 2, 3])[0]!.path).toBe('(root)');
  });

  it('reports at most five issues of a body that is wrong everywhere', () => {
    expect(issuesOf({}).length).toBe(5);
  });
});

describe('each alert is checked on its own: a bad one is reported, the others are read', () => {
  const good = (fingerprint: string) => ({
    status: 'firing',
    labels: { alertname: 'TorghutWsNotReady', namespace: 'torghut' },
    startsAt: '2026-03-01T10:15:30Z',
    endsAt: '0001-01-01T00:00:00Z',
    fingerprint,
  });

  it('a bad status → that alert is invalid with its index, fingerprint and field; the torghut alert beside it is read', () => {
    const result = read(payload({ alerts: [{ ...good('aaa111'), status: 'pending' }, good('bbb222')] }));
    expect(result.payload.alerts.map((a) => [a.index, a.fingerprint])).toEqual([[1, 'bbb222']]);
    expect(result.invalid).toEqual([{ index: 0, fingerprint: 'aaa111', error: expect.stringMatching(/^status: /) as unknown }]);
  });

  it('names a label whose value is not a string, a startsAt that is not RFC 3339, a missing fingerprint', () => {
    const result = read(
      payload({
        alerts: [
          { ...good('c1'), labels: { alertname: 'X', replicas: 2 } },
          { ...good('c2'), startsAt: 'yesterday' },
          { ...good('c3'), fingerprint: undefined },
          'not an alert',
        ],
      }),
    );
    expect(result.payload.alerts).toEqual([]);
    expect(result.invalid.map((i) => [i.index, i.error.split(':')[0]])).toEqual([
      [0, 'labels.replicas'],
      [1, 'startsAt'],
      [2, 'fingerprint'],
      [3, '(root)'],
    ]);
    expect(result.invalid[2]).not.toHaveProperty('fingerprint');
  });

  it('a fingerprint that does not look like one is not echoed back', () => {
    const result = read(payload({ alerts: [{ ...good('x'), status: 1, fingerprint: 'password=hunter2 <script>' }] }));
    expect(result.invalid[0]).toEqual({ index: 0, error: expect.any(String) as unknown });
  });

  it(`more than 1,000 alerts are all read (the old cap lost the group); past ${MAX_ALERTS_READ} they are counted as skipped`, () => {
    const many = Array.from({ length: 1_500 }, (_, i) => good(`f${i}`));
    const result = read(payload({ alerts: many }));
    expect(result.payload.alerts).toHaveLength(1_500);
    expect(result.skipped).toBe(0);
    const flood = read(payload({ alerts: [...Array.from({ length: MAX_ALERTS_READ }, () => ({})), good('late')] }));
    expect(flood.invalid).toHaveLength(MAX_ALERTS_READ);
    expect(flood.skipped).toBe(1);
  });
});
