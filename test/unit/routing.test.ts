import { describe, expect, it } from 'vitest';
import type { RunbookConfig } from '../../domain/runbook-config';
import { groupByTarget, routeAlert } from '../../ingress/routing';

type Routable = Pick<RunbookConfig, 'id' | 'alerts'>;

const torghut: Routable = { id: 'torghut-ws', alerts: [{ labels: { alertname: 'TorghutWsNotReady', namespace: 'torghut' } }] };
const payments: Routable = {
  id: 'payments-api',
  alerts: [{ labels: { alertname: 'PaymentsDown' } }, { labels: { alertname: 'PaymentsSlow', team: 'payments' } }],
};

describe('routing an alert to a runbook by its labels', () => {
  it('TorghutWsNotReady in namespace torghut → the torghut-ws runbook, extra labels do not matter', () => {
    const route = routeAlert({ alertname: 'TorghutWsNotReady', namespace: 'torghut', severity: 'page', pod: 'torghut-ws-0' }, [torghut, payments]);
    expect(route).toEqual({ kind: 'runbook', runbook: torghut });
  });

  it('any one matcher of a runbook is enough', () => {
    const route = routeAlert({ alertname: 'PaymentsSlow', team: 'payments' }, [torghut, payments]);
    expect(route.kind === 'runbook' && route.runbook.id).toBe('payments-api');
  });

  it('the first runbook in config order wins when two match', () => {
    const twin: Routable = { id: 'torghut-ws-shadow', alerts: [{ labels: { alertname: 'TorghutWsNotReady' } }] };
    const route = routeAlert({ alertname: 'TorghutWsNotReady', namespace: 'torghut' }, [twin, torghut]);
    expect(route.kind === 'runbook' && route.runbook.id).toBe('torghut-ws-shadow');
  });

  it('the same alert from another namespace is ignored, and the reason says what was expected', () => {
    const route = routeAlert({ alertname: 'TorghutWsNotReady', namespace: 'staging' }, [torghut]);
    expect(route).toEqual({
      kind: 'ignored',
      reason: 'no runbook matches alert TorghutWsNotReady: torghut-ws needs namespace="torghut" (got "staging")',
    });
  });

  it('a missing label is named as missing', () => {
    const route = routeAlert({ alertname: 'TorghutWsNotReady' }, [torghut]);
    expect(route.kind === 'ignored' && route.reason).toContain('namespace="torghut" (label missing)');
  });

  it('matching is exact: case and whitespace count', () => {
    expect(routeAlert({ alertname: 'torghutwsnotready', namespace: 'torghut' }, [torghut]).kind).toBe('ignored');
    expect(routeAlert({ alertname: 'TorghutWsNotReady ', namespace: 'torghut' }, [torghut]).kind).toBe('ignored');
  });

  it('an alert without alertname is ignored with every runbook explained', () => {
    const route = routeAlert({ job: 'node' }, [torghut, payments]);
    expect(route.kind === 'ignored' && route.reason).toBe(
      'no runbook matches alert without alertname: torghut-ws needs alertname="TorghutWsNotReady" (label missing); ' +
        'payments-api needs alertname="PaymentsDown" (label missing)',
    );
  });

  it('a runbook without matchers, or with an empty one, never catches every alert', () => {
    const none: Routable = { id: 'silent', alerts: [] };
    const empty: Routable = { id: 'catch-all', alerts: [{ labels: {} }] };
    const route = routeAlert({ alertname: 'Anything' }, [none, empty]);
    expect(route.kind === 'ignored' && route.reason).toBe(
      'no runbook matches alert Anything: silent has no alert matchers; catch-all needs a non-empty matcher',
    );
  });

  it('labels named like Object properties do not match by accident', () => {
    const proto: Routable = { id: 'proto', alerts: [{ labels: { constructor: 'x' } }] };
    expect(routeAlert({ alertname: 'A' }, [proto]).kind).toBe('ignored');
  });

  it('with no runbook configured, everything is ignored', () => {
    expect(routeAlert({ alertname: 'TorghutWsNotReady' }, [])).toEqual({ kind: 'ignored', reason: 'no runbook is configured' });
  });
});

describe('grouping the alerts of one request by target', () => {
  const alert = (status: 'firing' | 'resolved', labels: Record<string, string>, fingerprint: string) => ({ status, labels, fingerprint });
  const ws = { alertname: 'TorghutWsNotReady', namespace: 'torghut' };

  it('three TorghutWsNotReady alerts (one per pod) → one group for torghut-ws: one open/attach, not three', () => {
    const { groups, ignored } = groupByTarget(
      [alert('firing', { ...ws, pod: 'a' }, 'f1'), alert('firing', { ...ws, pod: 'b' }, 'f2'), alert('resolved', { ...ws, pod: 'c' }, 'f3')],
      [torghut, payments],
    );
    expect(ignored).toEqual([]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.runbook).toBe(torghut);
    expect(groups[0]!.firing.map((a) => a.fingerprint)).toEqual(['f1', 'f2']);
    expect(groups[0]!.resolved.map((a) => a.fingerprint)).toEqual(['f3']);
  });

  it('alerts of two runbooks → two groups in the order of their first alert; unknown alerts come back with their reason', () => {
    const { groups, ignored } = groupByTarget(
      [alert('firing', { alertname: 'PaymentsDown' }, 'p1'), alert('firing', { alertname: 'DiskFull' }, 'd1'), alert('firing', ws, 't1'), alert('firing', { alertname: 'PaymentsDown' }, 'p2')],
      [torghut, payments],
    );
    expect(groups.map((g) => [g.runbook.id, g.firing.map((a) => a.fingerprint)])).toEqual([
      ['payments-api', ['p1', 'p2']],
      ['torghut-ws', ['t1']],
    ]);
    expect(ignored.map((i) => i.alert.fingerprint)).toEqual(['d1']);
    expect(ignored[0]!.reason).toMatch(/^no runbook matches alert DiskFull/);
  });
});
