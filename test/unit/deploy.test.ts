/**
 * Static checks of what cannot be built or applied here (no Docker engine, no cluster): the
 * Kubernetes manifests and the Dockerfile agree with the code — settings the code reads, commands
 * the CLI has, files the image needs — and the diagnosis' RBAC stays read-only.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { settingsSchema } from '../../runtime/settings';

interface Manifest {
  kind: string;
  metadata?: { name?: string; namespace?: string };
  roleRef?: { name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
  spec?: { template?: { spec: { containers: Array<{ args: string[]; env: Array<{ name: string }> }> } } };
  rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }>;
}

const manifestDir = 'deploy/kubernetes';
const documents = readdirSync(manifestDir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(manifestDir, file), 'utf8')).map((doc) => {
      expect(doc.errors, file).toEqual([]);
      return { file, object: doc.toJS() as Manifest };
    }),
  );
const containers = documents
  .filter((d) => d.object.kind === 'Deployment')
  .flatMap((d) => d.object.spec?.template?.spec.containers ?? []);

/**
 * Local modules reachable from an entry file, following static imports and the CLI's on-demand
 * `import('…')`s — all but the demo/stack command, which needs the simulators and is not shipped.
 */
function staticImports(entry: string, seen = new Set<string>()): Set<string> {
  const file = [entry, `${entry}.ts`, join(entry, 'index.ts')].find((f) => existsSync(f) && f.endsWith('.ts'));
  if (!file || seen.has(file)) return seen;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  const specifiers = [
    ...[...source.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gm)].map((m) => m[1]!),
    ...[...source.matchAll(/import\('(\.[^']+)'\)/g)].map((m) => m[1]!).filter((s) => s !== './commands/stack'),
  ];
  for (const specifier of specifiers) {
    staticImports(resolve(dirname(file), specifier).replace(`${process.cwd()}/`, ''), seen);
  }
  return seen;
}

describe('deployment manifests and image', () => {
  it('every manifest parses and the containers run commands the CLI has', () => {
    expect(documents.map((d) => d.object.kind).sort()).toEqual(['Deployment', 'Deployment', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Service', 'ServiceAccount']);
    const cli = readFileSync('cli/main.ts', 'utf8');
    for (const c of containers) expect(cli).toMatch(new RegExp(`^\\s+${c.args[0]}: \\{`, 'm'));
  });

  it('containers set only settings the code reads', () => {
    const known = Object.keys(settingsSchema.shape);
    for (const c of containers) for (const e of c.env) expect(known, e.name).toContain(e.name);
  });

  const role = (name: string) => documents.find((d) => d.object.kind === 'Role' && d.object.metadata?.name === name)!.object;

  it('the diagnosis role is read-only, reads the ReplicaSets (current-ReplicaSet scoping) and one named Secret', () => {
    const rules = role('agentruns-diagnose').rules ?? [];
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) expect(rule.verbs.every((v) => ['get', 'list', 'watch'].includes(v)), rule.resources.join()).toBe(true);
    expect(rules.find((r) => r.resources.includes('replicasets'))).toMatchObject({ apiGroups: ['apps'], verbs: ['get', 'list'] });
    expect(rules.find((r) => r.resources.includes('secrets'))?.resourceNames).toEqual(['torghut-ws']);
  });

  it('the emergency restart is a separate opt-in role: patch on the one Deployment, bound to the worker account', () => {
    const emergency = documents.filter((d) => d.file === 'rbac-emergency.yaml').map((d) => d.object);
    expect(emergency.map((o) => o.kind)).toEqual(['Role', 'RoleBinding']);
    expect(role('agentruns-emergency-restart').rules).toEqual([{ apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['torghut-ws'], verbs: ['patch'] }]);
    const binding = emergency.find((o) => o.kind === 'RoleBinding')!;
    expect(binding.roleRef?.name).toBe('agentruns-emergency-restart');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'agentruns', namespace: 'agentruns' }]);
    expect(documents.filter((d) => d.file !== 'rbac-emergency.yaml').flatMap((d) => d.object.rules ?? []).some((r) => r.verbs.includes('patch'))).toBe(false);
  });

  it('the image holds every module the CLI loads at start, and none of the simulators', () => {
    const dockerfile = readFileSync('deploy/Dockerfile', 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY (\S+) \.\/\S+$/gm)].map((m) => m[1]!);
    for (const dir of copied) expect(existsSync(dir), dir).toBe(true);
    const loaded = [...staticImports('cli/main.ts'), ...staticImports('worker/main.ts'), ...staticImports('ingress/main.ts')];
    const topDirs = new Set(loaded.map((f) => f.split('/')[0]!));
    for (const dir of topDirs) expect(copied, `${dir}/ is imported at start but not copied into the image`).toContain(dir);
    expect([...topDirs].filter((d) => ['sim', 'devstack', 'test'].includes(d))).toEqual([]);
  });
});
