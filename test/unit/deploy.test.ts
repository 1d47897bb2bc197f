/**
 * Static checks of what cannot be built or applied here (no Docker engine, no cluster, no kubectl or
 * kustomize): the kustomization and every manifest it lists, and the Dockerfile, agree with the code —
 * settings the code reads, secrets only by reference, the runbooks ConfigMap where the code looks,
 * commands the CLI has, the image running the build's JavaScript — and the diagnosis' RBAC stays
 * read-only, with the emergency restart's patch an optional component.
 * (test/integration/built-artifacts.test.ts runs the image's command on the build's output.)
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadRunbookConfig } from '../../config/load-runbook';
import { loadSettings, SECRET_KEYS, settingsSchema } from '../../runtime/settings';
import { copiesOf, dockerStages, execForm, runsOf, stageNamed, workdirOf } from '../support/dockerfile';
import { ANY_POD, DIAGNOSIS_READS, roleAllows, shippedRoleRules, type PolicyRule, type RequestAttributes } from '../support/kube-rbac';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Container {
  name: string;
  args: string[];
  env: EnvVar[];
  envFrom?: unknown[];
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: {
    template?: { spec: { serviceAccountName?: string; containers: Container[]; volumes?: Array<{ name: string; configMap?: { name: string } }> } };
  };
  rules?: PolicyRule[];
  roleRef?: { kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}
interface Kustomization {
  apiVersion: string;
  kind: string;
  resources?: string[];
  components?: string[];
  configMapGenerator?: Array<{ name: string; namespace?: string; files?: string[] }>;
  secretGenerator?: unknown[];
}

const BASE = 'deploy/kubernetes';
const EMERGENCY = join(BASE, 'components/emergency');
const RUNBOOKS_CONFIGMAP = 'agentruns-runbooks';

function readKustomization(dir: string): Kustomization {
  const doc = parseDocument(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
  expect(doc.errors, dir).toEqual([]);
  return doc.toJS() as Kustomization;
}

/** kustomize's default load restrictor: a kustomization reads no file outside its own directory. */
function insideRoot(dir: string, file: string): boolean {
  return !relative(dir, resolve(dir, file)).startsWith('..');
}

/** The objects of the files a kustomization lists as resources. */
function resourcesOf(dir: string, kustomization: Kustomization): Array<{ file: string; object: Manifest }> {
  return (kustomization.resources ?? []).flatMap((file) => {
    expect(insideRoot(dir, file), `${dir}: ${file} is outside the kustomization's directory`).toBe(true);
    expect(existsSync(join(dir, file)) && statSync(join(dir, file)).isFile(), `${dir}: ${file} is not a file`).toBe(true);
    return parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((doc) => {
      expect(doc.errors, file).toEqual([]);
      return { file, object: doc.toJS() as Manifest };
    });
  });
}

/** `files:` entries of a generator: `path` or `key=path`. */
function generatorFiles(entries: string[] = []): Array<{ key: string; path: string }> {
  return entries.map((entry) => {
    const [key, path] = entry.includes('=') ? (entry.split('=', 2) as [string, string]) : [basename(entry), entry];
    return { key, path };
  });
}

const base = readKustomization(BASE);
const documents = resourcesOf(BASE, base);
const deployments = documents.map((d) => d.object).filter((o) => o.kind === 'Deployment');
const containers = deployments.flatMap((d) => d.spec?.template?.spec.containers ?? []);
const containerOf = (deployment: string) => deployments.find((d) => d.metadata.name === deployment)!.spec!.template!.spec.containers[0]!;
const envOf = (c: Container, name: string) => c.env.find((e) => e.name === name);

/**
 * Local modules reachable from an entry file, following static imports and the CLI's on-demand
 * `import('…')`s — all but the demo/stack command, which needs the simulators and is not built.
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

describe('the kustomization', () => {
  it('lists every manifest of deploy/kubernetes, each a file inside its directory, and they parse', () => {
    expect(base).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
    expect(documents.map((d) => d.object.kind).sort()).toEqual(['Deployment', 'Deployment', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    const manifests = readdirSync(BASE).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...(base.resources ?? [])].sort()).toEqual(manifests.sort());
  });

  it('the runbooks come from a generated ConfigMap holding the shipped runbook, mounted where AGENTRUNS_RUNBOOK points', async () => {
    const generator = base.configMapGenerator?.find((g) => g.name === RUNBOOKS_CONFIGMAP);
    expect(generator?.namespace).toBe('agentruns');
    const files = generatorFiles(generator?.files);
    for (const { path } of files) {
      expect(insideRoot(BASE, path), `${path} is outside ${BASE}: kustomize would refuse it`).toBe(true);
      // Every key becomes a file of the mounted directory, which the loader reads by extension.
      await expect(loadRunbookConfig(join(BASE, path))).resolves.toMatchObject({ id: expect.any(String) });
    }
    for (const { key } of files) expect(key).toMatch(/\.(ya?ml|json)$/);
    const shipped = readFileSync('config/runbooks/torghut-ws.yaml', 'utf8');
    expect(
      files.some(({ path }) => readFileSync(join(BASE, path), 'utf8') === shipped),
      `the ConfigMap ships config/runbooks/torghut-ws.yaml: copy it to ${BASE}/runbooks/ (kustomize reads nothing outside ${BASE})`,
    ).toBe(true);

    for (const deployment of deployments) {
      const spec = deployment.spec!.template!.spec;
      const volume = spec.volumes?.find((v) => v.configMap?.name === RUNBOOKS_CONFIGMAP);
      expect(volume, deployment.metadata.name).toBeDefined();
      for (const c of spec.containers) {
        const mount = c.volumeMounts?.find((m) => m.name === volume!.name);
        expect(mount?.readOnly, `${deployment.metadata.name}: the runbooks mount`).toBe(true);
        expect(envOf(c, 'AGENTRUNS_RUNBOOK')?.value).toBe(mount!.mountPath);
      }
    }
  });

  it('secrets only by reference: every secret setting from Secret/agentruns, no Secret or secret value in the repository', () => {
    const kustomizations = [base, readKustomization(EMERGENCY)];
    for (const k of kustomizations) expect(k.secretGenerator).toBeUndefined();
    expect(documents.filter((d) => d.object.kind === 'Secret')).toEqual([]);
    for (const c of containers) {
      expect(c.envFrom, `${c.name}: envFrom would hand it every key of a Secret`).toBeUndefined();
      for (const e of c.env.filter((v) => SECRET_KEYS.has(v.name))) {
        expect(e.value, `${c.name} ${e.name}`).toBeUndefined();
        expect(e.valueFrom?.secretKeyRef?.name, `${c.name} ${e.name}`).toBe('agentruns');
      }
      for (const e of c.env.filter((v) => v.valueFrom)) expect(Object.keys(e.valueFrom!), e.name).toEqual(['secretKeyRef']);
    }
    const secretsOf = (deployment: string) => containerOf(deployment).env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name).sort();
    // The README's settings table: which process uses which secret (and nothing more).
    expect(secretsOf('agentruns-worker')).toEqual(['AGENTRUNS_DECISION_KEY', 'ARGOCD_AUTH_TOKEN', 'GITHUB_TOKEN', 'SLACK_BOT_TOKEN', 'TEMPORAL_API_KEY']);
    expect(secretsOf('agentruns-ingress')).toEqual(['AGENTRUNS_DECISION_KEY', 'ALERTMANAGER_TOKEN', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'TEMPORAL_API_KEY']);
  });

  it('each container starts with only its required secrets present: the settings validation accepts it', () => {
    for (const c of containers) {
      const env = Object.fromEntries(
        c.env.flatMap((e) => {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) return ref.optional ? [] : [[e.name, `present-${ref.key}-0123456789abcdef0123456789abcdef`]];
          return [[e.name, e.value]];
        }),
      );
      expect(() => loadSettings(env), c.name).not.toThrow();
    }
  });

  it('the emergency restart is an optional component: patch on the one Deployment, bound to the worker account', () => {
    const component = readKustomization(EMERGENCY);
    expect(component).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1alpha1', kind: 'Component' });
    expect(base.components ?? [], 'the base does not include it').toEqual([]);
    const objects = resourcesOf(EMERGENCY, component).map((d) => d.object);
    expect(objects.map((o) => o.kind).sort()).toEqual(['Role', 'RoleBinding']);
    const role = objects.find((o) => o.kind === 'Role')!;
    const binding = objects.find((o) => o.kind === 'RoleBinding')!;
    expect(role.metadata.namespace).toBe('torghut');
    expect(role.rules).toEqual([{ apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['torghut-ws'], verbs: ['patch'] }]);
    const patch = { verb: 'patch', apiGroup: 'apps', resource: 'deployments', namespace: 'torghut' };
    expect(roleAllows(role.rules!, { ...patch, name: 'torghut-ws' })).toBe(true);
    expect(roleAllows(role.rules!, { ...patch, name: 'another-deployment' })).toBe(false);
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: role.metadata.name });
    const worker = deployments.find((d) => d.metadata.name === 'agentruns-worker')!;
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: worker.spec!.template!.spec.serviceAccountName, namespace: worker.metadata.namespace }]);
  });
});

describe('deployment manifests', () => {
  it('the containers run commands the CLI has', () => {
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
    expect(documents.flatMap((d) => d.object.rules ?? []).some((r) => r.verbs.includes('patch'))).toBe(false);
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
});

describe('the image', () => {
  const stages = dockerStages();
  const build = stageNamed(stages, 'build');
  const deps = stageNamed(stages, 'deps');
  const runtime = stages.at(-1)!;

  it('the build stage builds from the locked packages and every source the built CLI and workflow bundle import, none of the simulators', () => {
    expect(runsOf(build)).toEqual(['npm ci --no-audit --no-fund', 'npm run build']);
    const copied = copiesOf(build).flatMap((c) => c.sources);
    for (const source of copied) expect(existsSync(source), source).toBe(true);
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.json']));
    const built = ['cli/main.ts', 'worker/main.ts', 'ingress/main.ts', 'workflows/index.ts', 'scripts/build.ts'].flatMap((entry) => [...staticImports(entry)]);
    const topDirs = new Set(built.map((f) => f.split('/')[0]!));
    for (const dir of topDirs) expect(copied, `${dir}/ is built but not copied into the build stage`).toContain(dir);
    expect(copied.filter((d) => ['sim', 'devstack', 'test'].includes(d))).toEqual([]);
  });

  it('the runtime stage holds the build\'s dist/ and the production packages only, and runs the built CLI with node', () => {
    expect(runsOf(deps)).toEqual(['npm ci --omit=dev --no-audit --no-fund']);
    expect(runsOf(runtime), 'nothing is installed or compiled in the runtime stage').toEqual([]);
    expect(copiesOf(runtime)).toEqual([
      { from: 'deps', sources: ['/app/node_modules'], dest: './node_modules' },
      { from: 'build', sources: ['/app/dist'], dest: './dist' },
    ]);
    expect([workdirOf(build), workdirOf(deps), workdirOf(runtime)]).toEqual(['/app', '/app', '/app']);
    expect(execForm(runtime, 'ENTRYPOINT')).toEqual(['node', 'dist/agentruns.mjs']);
    expect(execForm(runtime, 'CMD')).toEqual(['worker']);
  });

  it('no TypeScript tooling is a production dependency: tsx, esbuild and typescript are for development only', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    for (const tool of ['tsx', 'esbuild', 'typescript']) {
      expect(Object.keys(pkg.dependencies)).not.toContain(tool);
      expect(Object.keys(pkg.devDependencies)).toContain(tool);
    }
  });
});
