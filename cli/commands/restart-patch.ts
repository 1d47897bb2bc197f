/** `agentruns restart-patch FILE [--at ISO] [--replicas N]`: the exact GitOps change, offline, to stdout. */
import { parseArgs } from 'node:util';
import { applyRestartPatch, ManifestError } from '../../domain/restart-patch';
import { CliError } from '../errors';
import { parseIntegerFlag, readInputFile } from '../io';
import { USAGE } from '../usage';

export async function restartPatchCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { at: { type: 'string' }, replicas: { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new CliError(`expected one manifest FILE\nusage: agentruns ${USAGE['restart-patch']}`);
  const text = await readInputFile(positionals[0], 'FILE');
  const restartedAt = values.at ?? new Date().toISOString();
  const expectedReplicas = parseIntegerFlag(values.replicas, '--replicas', 0) ?? 1;
  try {
    const patched = applyRestartPatch(text, { restartedAt, expectedReplicas });
    process.stdout.write(patched.text);
    for (const change of patched.changes) process.stderr.write(`changed: ${change}\n`);
  } catch (err) {
    if (err instanceof ManifestError) throw new CliError(`${positionals[0]}: ${err.message}`);
    throw err;
  }
  return 0;
}
