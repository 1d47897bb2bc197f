/** Reads runbook config files (YAML or JSON) and validates them; every problem is named with its path. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { incidentWorkflowId } from '../domain/incident';
import { parseRunbookConfig, RunbookConfigError, type RunbookConfig } from '../domain/runbook-config';
import { readYamlDocument } from './read-yaml';

export const DEFAULT_RUNBOOK_PATH = fileURLToPath(new URL('./runbooks/torghut-ws.yaml', import.meta.url));

export async function loadRunbookConfig(path: string = DEFAULT_RUNBOOK_PATH): Promise<RunbookConfig> {
  return parseRunbookConfig(await readYamlDocument(path, (issues) => new RunbookConfigError(path, issues)), path);
}

/**
 * Every runbook a service handles: one file, or every *.yaml / *.yml / *.json file of a directory
 * (the ingress routes alerts among them). Two runbooks for the same incident ID are refused.
 */
export async function loadRunbookConfigs(pathOrDir: string = DEFAULT_RUNBOOK_PATH): Promise<RunbookConfig[]> {
  const isDir = await stat(pathOrDir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  const files = isDir
    ? (await readdir(pathOrDir))
        .filter((f) => /\.(ya?ml|json)$/.test(f))
        .sort()
        .map((f) => join(pathOrDir, f))
    : [pathOrDir];
  if (files.length === 0) throw new RunbookConfigError(pathOrDir, [{ path: '', message: 'the directory holds no runbook (*.yaml, *.yml, *.json)' }]);
  const runbooks = await Promise.all(files.map((f) => loadRunbookConfig(f)));
  const seen = new Map<string, string>();
  runbooks.forEach((runbook, i) => {
    const id = incidentWorkflowId(runbook.target);
    const other = seen.get(id);
    if (other) throw new RunbookConfigError(files[i]!, [{ path: 'id', message: `names the same Deployment as ${other} (incident ${id}): one runbook per target` }]);
    seen.set(id, files[i]!);
  });
  return runbooks;
}
