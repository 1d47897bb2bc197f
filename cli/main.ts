/**
 * The `agentruns` command line. Every command validates its flags (unknown flags are errors),
 * prints one clear line on failure, and exits 0 (ok), 1 (failed or refused) or 2 (bad usage/input).
 */
import { RunbookConfigError } from '../domain/runbook-config';
import { SettingsError } from '../runtime/settings';
import { classifyCommand, usage as classifyUsage } from './commands/classify';
import { diagnoseCommand, usage as diagnoseUsage } from './commands/diagnose';
import {
  decisionCommand,
  decisionUsage,
  listCommand,
  listUsage,
  startCommand,
  startUsage,
  statusCommand,
  statusUsage,
} from './commands/incidents';
import { restartPatchCommand, usage as restartPatchUsage } from './commands/restart-patch';
import { serveCommand, serveUsage, workerCommand, workerUsage } from './commands/services';
import { CliError, EXIT } from './errors';

type Command = { run: (argv: string[]) => Promise<number>; usage: string; summary: string };

const COMMANDS: Record<string, Command> = {
  // Loaded on demand: the simulators and the dev-server harness are not part of the production image.
  demo: {
    run: async (argv) => (await import('./commands/stack')).demoCommand(argv),
    usage: 'demo [--scenario NAME] [--auto-approve] [--keep]',
    summary: 'local stack + a demo 406 incident, end to end',
  },
  stack: {
    run: async (argv) => (await import('./commands/stack')).stackCommand(argv),
    usage: 'stack [--scenario NAME]',
    summary: 'local stack: Temporal dev server + UI, simulators, worker, ingress',
  },
  classify: { run: classifyCommand, usage: classifyUsage, summary: 'classify a readiness body and a log file, offline' },
  diagnose: { run: diagnoseCommand, usage: diagnoseUsage, summary: 'read-only diagnosis of the target, once' },
  'restart-patch': { run: restartPatchCommand, usage: restartPatchUsage, summary: 'print the GitOps restart change of a manifest, offline' },
  start: { run: startCommand, usage: startUsage, summary: 'start (or attach to) an incident by hand' },
  approve: { run: decisionCommand('approve'), usage: decisionUsage('approve'), summary: 'approve the waiting step of an incident' },
  reject: { run: decisionCommand('reject'), usage: decisionUsage('reject'), summary: 'reject the waiting step of an incident' },
  status: { run: statusCommand, usage: statusUsage, summary: 'show the whole state of an incident' },
  list: { run: listCommand, usage: listUsage, summary: 'list open and recent incidents' },
  worker: { run: workerCommand, usage: workerUsage, summary: 'run the Temporal worker (production)' },
  serve: { run: serveCommand, usage: serveUsage, summary: 'run the ingress (Alertmanager, Slack); --with-worker for one process' },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: agentruns COMMAND [flags]',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}\n  ${' '.repeat(width)}  agentruns ${c.usage}`),
    '',
    'exit codes: 0 ok, 1 failed or refused, 2 bad usage or input',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`agentruns: unknown command "${name}"\n\n${help()}`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof CliError) {
      console.error(`agentruns ${name}: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof RunbookConfigError || err instanceof SettingsError) {
      console.error(`agentruns ${name}: ${err.message}`);
      return EXIT.usage;
    }
    if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`agentruns ${name}: ${err.message}\nusage: agentruns ${command.usage}`);
      return EXIT.usage;
    }
    console.error(`agentruns ${name}: ${(err as Error).message}`);
    return EXIT.failure;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
