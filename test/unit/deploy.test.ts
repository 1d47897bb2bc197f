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
import { ANY_POD, DIAGNOSIS_READS, roleAllows, shippedRoleRules, type PolicyRule, type RequestAttributes } from '../support/kube-rbac';

interface Manifest {
  kind: string;
  spec?: { template?: { spec: { containers: Array<{ args: string[]; env: Array<{ name: string }> }> } } };
  rules?: PolicyRule[];
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
    expect(documents.map((d) => d.object.kind).sort()).toEqual(['Deployment', 'Deployment', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    const cli = readFileSync('cli/main.ts', 'utf8');
    for (const c of containers) expect(cli).toMatch(new RegExp(`^\\s+${c.args[0]}: \\{`, 'm'));
  });

  it('containers set only settings the code reads', () => {
    const known = Object.keys(settingsSchema.shape);
    for (const c of containers) for (const e of c.env) expect(known, e.name).toContain(e.name);
  });

  it('the diagnosis role is read-only', () => {
    const rules = shippedRoleRules();
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) expect(rule.verbs.every((v) => ['get', 'list', 'watch'].includes(v)), (rule.resources ?? []).join()).toBe(true);
    expect(roleAllows(rules, { verb: 'patch', apiGroup: 'apps', resource: 'deployments', namespace: 'torghut', name: 'torghut-ws' })).toBe(false);
  });

  it('the role grants nothing on secrets: no verb, no name, no wildcard that covers them', () => {
    const rules = shippedRoleRules();
    const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
    const names = [undefined, 'torghut-ws', 'agentruns', 'sealed-secrets-key'];
    const asks: RequestAttributes[] = verbs.flatMap((verb) =>
      names.map((name) => ({ verb, apiGroup: '', resource: 'secrets', namespace: 'torghut', ...(name ? { name } : {}) })),
    );
    for (const ask of asks) expect(roleAllows(rules, ask), JSON.stringify(ask)).toBe(false);
    for (const rule of rules) {
      expect(rule.resources ?? [], 'no rule names secrets or every resource').not.toEqual(expect.arrayContaining([expect.stringMatching(/^(secrets|\*)(\/|$)/)]));
      expect(rule.verbs).not.toContain('*');
    }
    // The check is not vacuous: the same evaluator sees a wildcard rule cover a Secret read.
    expect(roleAllows([{ apiGroups: ['*'], resources: ['*'], verbs: ['get'] }], asks[1]!)).toBe(true);
    expect(roleAllows([{ apiGroups: [''], resources: ['secrets'], resourceNames: ['torghut-ws'], verbs: ['get'] }], asks[1]!)).toBe(true);
  });

  it('every read the diagnosis makes is granted, the KafkaUser by name', () => {
    const rules = shippedRoleRules();
    for (const read of DIAGNOSIS_READS) {
      const ask = read.name === ANY_POD ? { ...read, name: 'torghut-ws-5c7d9f8b6d-k4k2m' } : read;
      expect(roleAllows(rules, ask), JSON.stringify(ask)).toBe(true);
    }
    const kafkaUser = { verb: 'get', apiGroup: 'kafka.strimzi.io', resource: 'kafkausers', namespace: 'torghut' };
    expect(roleAllows(rules, { ...kafkaUser, name: 'torghut-ws' })).toBe(true);
    expect(roleAllows(rules, { ...kafkaUser, name: 'another-user' })).toBe(false);
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
