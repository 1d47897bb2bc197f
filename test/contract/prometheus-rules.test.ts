/**
 * The shipped alert rule, held to the real Prometheus rule engine: Debian's `promtool` checks the
 * rules file and runs its unit tests (deploy/prometheus/torghut-ws-rules.test.yaml: a restart does
 * not page, readiness stuck at 503 does after `for:`, recovery resolves). The PrometheusRule carries
 * the same group, and the labels the rule fires with route to the shipped runbook and name its target.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadRunbookConfig } from '../../config/load-runbook';
import { routeAlert } from '../../ingress/routing';

const DIR = 'deploy/prometheus';
const RULES = `${DIR}/torghut-ws-rules.yaml`;
const RULE_TESTS = `${DIR}/torghut-ws-rules.test.yaml`;
const PROMETHEUS_RULE = `${DIR}/torghut-ws-prometheusrule.yaml`;

interface RuleGroup {
  name: string;
  rules: Array<{ alert?: string; expr: string; for?: string; labels?: Record<string, string> }>;
}
interface RuleTests {
  tests: Array<{
    name: string;
    alert_rule_test: Array<{ eval_time: string; alertname: string; exp_alerts: Array<{ exp_labels: Record<string, string> }> }>;
  }>;
}

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { encoding: 'utf8', timeout: 30_000 });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('promtool not found on PATH: install Debian\'s prometheus package (`apt-get install prometheus`, as .ci/system-deps does)');
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const groupsOf = (path: string): RuleGroup[] => (parse(readFileSync(path, 'utf8')) as { groups: RuleGroup[] }).groups;

describe('TorghutWsNotReady alert rule (promtool)', () => {
  it('the rules file is valid for Prometheus', () => {
    const check = promtool('check', 'rules', RULES);
    expect(check.output).toContain('SUCCESS: 1 rules found');
    expect(check.status).toBe(0);
  });

  it('a restart blip does not page, sustained not-ready fires after 5 minutes with namespace/deployment, recovery resolves', () => {
    const run = promtool('test', 'rules', RULE_TESTS);
    expect(run.output).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it('the PrometheusRule carries exactly the same group as the plain rules file', () => {
    const resource = parse(readFileSync(PROMETHEUS_RULE, 'utf8')) as { apiVersion: string; kind: string; spec: { groups: RuleGroup[] } };
    expect(resource.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(resource.kind).toBe('PrometheusRule');
    expect(resource.spec.groups).toEqual(groupsOf(RULES));
  });

  it('the labels it fires with route to the shipped torghut-ws runbook and name its target', async () => {
    const runbook = await loadRunbookConfig();
    const rule = groupsOf(RULES).flatMap((g) => g.rules).find((r) => r.alert === 'TorghutWsNotReady');
    expect(rule?.for).toBe('5m');
    const tests = parse(readFileSync(RULE_TESTS, 'utf8')) as RuleTests;
    const fired = tests.tests.flatMap((t) => t.alert_rule_test.flatMap((a) => a.exp_alerts.map((e) => ({ alertname: a.alertname, ...e.exp_labels }))));
    expect(fired.length).toBeGreaterThan(0);
    for (const labels of fired) {
      expect(routeAlert(labels, [runbook])).toEqual({ kind: 'runbook', runbook });
      expect(labels).toMatchObject({ namespace: runbook.target.namespace, deployment: runbook.target.deployment });
    }
  });
});
