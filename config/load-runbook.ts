/** Reads a runbook config file (YAML or JSON) and validates it; every problem is named with its path. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseRunbookConfig, RunbookConfigError, type RunbookConfig } from '../domain/runbook-config';

export const DEFAULT_RUNBOOK_PATH = fileURLToPath(new URL('./runbooks/torghut-ws.yaml', import.meta.url));

export async function loadRunbookConfig(path: string = DEFAULT_RUNBOOK_PATH): Promise<RunbookConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new RunbookConfigError(path, [{ path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  let document: unknown;
  try {
    document = parse(text, { prettyErrors: true });
  } catch (err) {
    throw new RunbookConfigError(path, [{ path: '', message: `not valid YAML: ${(err as Error).message}` }]);
  }
  return parseRunbookConfig(document, path);
}
