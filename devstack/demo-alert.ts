/** A real-shaped Alertmanager webhook payload (version 4) for torghut-ws readiness stuck at 503. */
export function torghutAlertPayload(
  options: { status?: 'firing' | 'resolved'; fingerprint?: string; startsAt?: string; namespace?: string; annotations?: Record<string, string> } = {},
) {
  const status = options.status ?? 'firing';
  const labels = { alertname: 'TorghutWsNotReady', namespace: options.namespace ?? 'torghut', deployment: 'torghut-ws', severity: 'page' };
  const annotations = {
    summary: 'torghut-ws readiness stuck at 503',
    description: 'kube_deployment_status_replicas_ready{deployment="torghut-ws"} == 0 for 5m',
    runbook_url: 'docs/runbooks/ws-connection-limit-and-auth.md',
    ...options.annotations,
  };
  const startsAt = options.startsAt ?? new Date(Date.now() - 5 * 60_000).toISOString();
  return {
    version: '4',
    receiver: 'agentruns',
    status,
    groupKey: `{}/{severity="page"}:{alertname="TorghutWsNotReady", namespace="${labels.namespace}"}`,
    truncatedAlerts: 0,
    groupLabels: { alertname: labels.alertname, namespace: labels.namespace },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: 'http://alertmanager.monitoring:9093',
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt,
        endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.monitoring:9090/graph?g0.expr=kube_deployment_status_replicas_ready%7Bdeployment%3D%22torghut-ws%22%7D+%3D%3D+0',
        fingerprint: options.fingerprint ?? '5f3c9a1b2d4e6f70',
      },
    ],
  };
}
