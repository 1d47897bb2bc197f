/**
 * The `agentruns` command line. Every command validates its flags (unknown flags are errors),
 * prints one clear line on failure, and exits 0 (ok), 1 (failed or refused) or 2 (bad usage/input).
 */
import { RunbookConfigError } from '../domain/runbook-config';
import { SettingsError } from '../runtime/settings';
import { CliError, EXIT } from './errors';
import { USAGE, type CommandName } from './usage';

type Run = (argv: string[]) => Promise<number>;

/**
 * Each command's module is loaded only when it runs: `--help` and the offline commands stay fast, and
 * the simulators behind `demo`/`stack` are never loaded by the production commands (nor in the image).
 */
const COMMANDS: Record<CommandName, { load: () => Promise<Run>; summary: string }> = {
  demo: { load: async () => (await import('./commands/stack')).demoCommand, summary: 'local stack + a demo 406 incident, end to end' },
  stack: { load: async () => (await import('./commands/stack')).stackCommand, summary: 'local stack: Temporal dev server + UI, simulators, worker, ingress' },
  classify: { load: async () => (await import('./commands/classify')).classifyCommand, summary: 'classify a readiness body and a log file, offline' },
  diagnose: { load: async () => (await import('./commands/diagnose')).diagnoseCommand, summary: 'read-only diagnosis of the target, once' },
  'restart-patch': { load: async () => (await import('./commands/restart-patch')).restartPatchCommand, summary: 'print the GitOps restart change of a manifest, offline' },
  start: { load: async () => (await import('./commands/incidents')).startCommand, summary: 'start (or attach to) an incident by hand' },
  approve: { load: async () => (await import('./commands/incidents')).decisionCommand('approve'), summary: 'approve the waiting step of an incident' },
  reject: { load: async () => (await import('./commands/incidents')).decisionCommand('reject'), summary: 'reject the waiting step of an incident' },
  status: { load: async () => (await import('./commands/incidents')).statusCommand, summary: 'show the whole state of an incident' },
  list: { load: async () => (await import('./commands/incidents')).listCommand, summary: 'list open and recent incidents' },
  report: { load: async () => (await import('./commands/report')).reportCommand, summary: 'the incident report: timeline with durations, from the history' },
  worker: { load: async () => (await import('./commands/services')).workerCommand, summary: 'run the Temporal worker (production)' },
  serve: { load: async () => (await import('./commands/services')).serveCommand, summary: 'run the ingress (Alertmanager, Slack); --with-worker for one process' },
};

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: agentruns COMMAND [flags]',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}\n  ${' '.repeat(width)}  agentruns ${USAGE[name as CommandName]}`),
    '',
    'exit codes: 0 ok, 1 failed or refused, 2 bad usage or input',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return EXIT.ok;
  }
  if (!name) {
    // Bad usage: the message and the usage go to stderr, like every other usage error.
    console.error(`agentruns: no command given\n\n${help()}`);
    return EXIT.usage;
  }
  if (!isCommand(name)) {
    console.error(`agentruns: unknown command "${name}"\n\n${help()}`);
    return EXIT.usage;
  }
  try {
    return await (await COMMANDS[name].load())(rest);
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
      console.error(`agentruns ${name}: ${err.message}\nusage: agentruns ${USAGE[name]}`);
      return EXIT.usage;
    }
    console.error(`agentruns ${name}: ${(err as Error).message}`);
    return EXIT.failure;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
