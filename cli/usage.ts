/** Usage lines of every command, kept apart from the commands so `--help` loads none of them. */
export const USAGE = {
  demo: 'demo [--scenario NAME] [--auto-approve] [--keep]',
  stack: 'stack [--scenario NAME]',
  classify: 'classify --readyz FILE --logs FILE [--readyz-status CODE] [--replicas N] [--runbook FILE] [--json]',
  diagnose: 'diagnose [--runbook FILE] [--kubeconfig FILE] [--json]',
  'restart-patch': 'restart-patch FILE [--at ISO-8601] [--replicas N]',
  start: 'start [--runbook FILE] [--by NAME] [--dry-run] [--json]',
  approve: 'approve ID --by APPROVER --run RUN_ID --step restart|rollback [--comment TEXT] [--prerequisite-confirmed] [--emergency] [--restart-anyway] [--json]',
  reject: 'reject ID --by APPROVER --run RUN_ID --step restart|rollback [--comment TEXT] [--json]',
  status: 'status [ID] [--runbook FILE] [--json]',
  list: 'list [--runbook-id ID] [--limit N] [--json]',
  report: 'report ID [--run RUN_ID] [--json|--markdown]',
  worker: 'worker   (settings from the environment: see README)',
  serve: 'serve [--with-worker]   (settings from the environment: see README)',
} as const;

export type CommandName = keyof typeof USAGE;
