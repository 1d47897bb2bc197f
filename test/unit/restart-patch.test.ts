import { describe, expect, it } from 'vitest';
import { applyRestartPatch, ManifestError, readGitOpsFacts } from '../../domain/restart-patch';

/** argocd/applications/torghut/ws/deployment.yaml as a human wrote it: comments, mixed quoting, flow maps. */
const DEPLOYMENT = `# torghut-ws: Alpaca market-data WebSocket -> Kafka forwarder.
# Runbook: Operations: WS Connection Limit and Auth (v1)
apiVersion: apps/v1
kind: Deployment
metadata:
  name: torghut-ws
  namespace: torghut
  labels:
    app: torghut-ws
    app.kubernetes.io/part-of: torghut
spec:
  # Alpaca allows ONE market-data connection per key: keep a single replica (406 otherwise).
  replicas: 2   # bumped during the load test, must go back to 1
  revisionHistoryLimit: 5
  strategy:
    type: Recreate # never two pods at once
  selector:
    matchLabels:
      app: torghut-ws
  template:
    metadata:
      labels:
        app: torghut-ws
      annotations:
        prometheus.io/scrape: 'true'
        prometheus.io/port: "8080"
        kubectl.kubernetes.io/restartedAt: "2026-01-01T09:30:00Z" # ops-2026-01-01 recovery
    spec:
      serviceAccountName: torghut-ws
      containers:
      - name: torghut-ws
        image: registry.example.com/torghut/torghut-ws:1.4.2
        args: ["--symbols=AAPL,MSFT,NVDA,TSLA,AMZN,GOOGL,META,AMD,NFLX,AVGO", "--topic-prefix=torghut.marketdata.v1", "--status-topic=torghut.status.v1"]
        ports:
        - name: http
          containerPort: 8080
        envFrom:
        - configMapRef: {name: torghut-ws}
        readinessProbe:
          httpGet: { path: /readyz, port: http }
          periodSeconds: 5

        resources:
          requests: { cpu: 100m, memory: 256Mi }
`;

function changedLines(before: string, after: string): Array<[string | undefined, string | undefined]> {
  const a = before.split('\n');
  const b = after.split('\n');
  const out: Array<[string | undefined, string | undefined]> = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) out.push([a[i], b[i]]);
  return out;
}

describe('applyRestartPatch', () => {
  it('406 with two replicas → replicas reset to 1 and restartedAt bumped; every other byte identical', () => {
    const patch = applyRestartPatch(DEPLOYMENT, { restartedAt: '2026-02-08T10:00:00Z', expectedReplicas: 1 });

    expect(patch.text).toBe(
      DEPLOYMENT.replace('  replicas: 2   # bumped', '  replicas: 1   # bumped').replace(
        'restartedAt: "2026-01-01T09:30:00Z" # ops',
        'restartedAt: "2026-02-08T10:00:00Z" # ops',
      ),
    );
    expect(changedLines(DEPLOYMENT, patch.text)).toEqual([
      ['  replicas: 2   # bumped during the load test, must go back to 1', '  replicas: 1   # bumped during the load test, must go back to 1'],
      [
        '        kubectl.kubernetes.io/restartedAt: "2026-01-01T09:30:00Z" # ops-2026-01-01 recovery',
        '        kubectl.kubernetes.io/restartedAt: "2026-02-08T10:00:00Z" # ops-2026-01-01 recovery',
      ],
    ]);
    expect(patch.changes).toEqual(['replicas: 2 → 1', 'restartedAt: 2026-01-01T09:30:00Z → 2026-02-08T10:00:00Z']);
    expect(patch.previousReplicas).toBe(2);
    expect(patch.previousRestartedAt).toBe('2026-01-01T09:30:00Z');
  });

  it('replicas already 1 → only the annotation line changes', () => {
    const single = DEPLOYMENT.replace('replicas: 2', 'replicas: 1');
    const patch = applyRestartPatch(single, { restartedAt: '2026-02-08T10:00:00Z', expectedReplicas: 1 });
    expect(changedLines(single, patch.text)).toHaveLength(1);
    expect(patch.changes).toEqual(['restartedAt: 2026-01-01T09:30:00Z → 2026-02-08T10:00:00Z']);
  });

  it('without expectedReplicas the replica count is left alone', () => {
    const patch = applyRestartPatch(DEPLOYMENT, { restartedAt: '2026-02-08T10:00:00Z' });
    expect(patch.text).toContain('  replicas: 2   # bumped');
    expect(patch.changes).toHaveLength(1);
  });

  it('is idempotent: the same restart applied twice changes nothing the second time', () => {
    const first = applyRestartPatch(DEPLOYMENT, { restartedAt: '2026-02-08T10:00:00Z', expectedReplicas: 1 });
    const second = applyRestartPatch(first.text, { restartedAt: '2026-02-08T10:00:00Z', expectedReplicas: 1 });
    expect(second.text).toBe(first.text);
    expect(second.changes).toEqual([]);
    expect(second.previousRestartedAt).toBe('2026-02-08T10:00:00Z');
    expect(second.previousReplicas).toBe(1);
  });

  it('annotation absent from an existing annotations map → one line added after the last annotation', () => {
    const without = DEPLOYMENT.replace('        kubectl.kubernetes.io/restartedAt: "2026-01-01T09:30:00Z" # ops-2026-01-01 recovery\n', '');
    const patch = applyRestartPatch(without, { restartedAt: '2026-02-08T10:00:00Z', expectedReplicas: 2 });
    expect(patch.text).toBe(
      without.replace(
        '        prometheus.io/port: "8080"\n',
        '        prometheus.io/port: "8080"\n        kubectl.kubernetes.io/restartedAt: "2026-02-08T10:00:00Z"\n',
      ),
    );
    expect(patch.previousRestartedAt).toBeNull();
    expect(patch.changes).toEqual(['restartedAt: (unset) → 2026-02-08T10:00:00Z']);
  });

  it('pod template without annotations → annotations map created under metadata', () => {
    const without = DEPLOYMENT.replace(/ {6}annotations:\n(?: {8}.*\n)+/, '');
    expect(without).not.toContain('annotations');
    const patch = applyRestartPatch(without, { restartedAt: '2026-02-08T10:00:00Z', expectedReplicas: 1 });
    expect(patch.text).toBe(
      without
        .replace('  replicas: 2   #', '  replicas: 1   #')
        .replace(
          '      labels:\n        app: torghut-ws\n    spec:',
          '      labels:\n        app: torghut-ws\n      annotations:\n        kubectl.kubernetes.io/restartedAt: "2026-02-08T10:00:00Z"\n    spec:',
        ),
    );
  });

  it('pod template without metadata → metadata.annotations created before the pod spec', () => {
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: torghut-ws
spec:
    replicas: 1
    template:
        # pod spec follows
        spec:
            containers:
            -   name: torghut-ws
`;
    const patch = applyRestartPatch(manifest, { restartedAt: '2026-02-08T10:00:00Z', expectedReplicas: 1 });
    expect(patch.text).toBe(
      manifest.replace(
        '        spec:\n',
        '        metadata:\n            annotations:\n                kubectl.kubernetes.io/restartedAt: "2026-02-08T10:00:00Z"\n        spec:\n',
      ),
    );
  });

  it('empty `annotations:` and flow `annotations: {}` are filled in place', () => {
    const empty = DEPLOYMENT.replace(/ {6}annotations:\n(?: {8}.*\n)+/, '      annotations:\n');
    expect(applyRestartPatch(empty, { restartedAt: '2026-02-08T10:00:00Z' }).text).toBe(
      empty.replace('      annotations:\n', '      annotations:\n        kubectl.kubernetes.io/restartedAt: "2026-02-08T10:00:00Z"\n'),
    );
    const flow = DEPLOYMENT.replace(/ {6}annotations:\n(?: {8}.*\n)+/, '      annotations: {} # none yet\n');
    expect(applyRestartPatch(flow, { restartedAt: '2026-02-08T10:00:00Z' }).text).toBe(
      flow.replace('annotations: {} # none yet', 'annotations: { kubectl.kubernetes.io/restartedAt: "2026-02-08T10:00:00Z" } # none yet'),
    );
  });

  it('keeps single quotes when the existing annotation uses them', () => {
    const single = DEPLOYMENT.replace('"2026-01-01T09:30:00Z"', "'2026-01-01T09:30:00Z'");
    const patch = applyRestartPatch(single, { restartedAt: '2026-02-08T10:00:00Z' });
    expect(patch.text).toContain("kubectl.kubernetes.io/restartedAt: '2026-02-08T10:00:00Z' # ops");
  });

  it('replicas absent: left out when the default (1) is expected, written first in spec otherwise', () => {
    const without = DEPLOYMENT.replace(/ {2}# Alpaca allows.*\n {2}replicas: 2.*\n/, '');
    const keep = applyRestartPatch(without, { restartedAt: '2026-02-08T10:00:00Z', expectedReplicas: 1 });
    expect(keep.previousReplicas).toBeNull();
    expect(keep.text).not.toContain('replicas:');
    const three = applyRestartPatch(without, { restartedAt: '2026-02-08T10:00:00Z', expectedReplicas: 3 });
    expect(three.text).toContain('spec:\n  replicas: 3\n  revisionHistoryLimit: 5\n');
    expect(three.changes[0]).toBe('replicas: (unset, default 1) → 3');
  });

  it('keeps Windows line endings', () => {
    const crlf = DEPLOYMENT.replace(/\n/g, '\r\n').replace(/ {6}annotations:\r\n(?: {8}.*\r\n)+/, '');
    const patch = applyRestartPatch(crlf, { restartedAt: '2026-02-08T10:00:00Z' });
    expect(patch.text).toContain('      annotations:\r\n        kubectl.kubernetes.io/restartedAt: "2026-02-08T10:00:00Z"\r\n    spec:');
    expect(patch.text.replace(/\r\n/g, '')).not.toContain('\n');
  });

  describe('refuses what it cannot patch safely', () => {
    const at = { restartedAt: '2026-02-08T10:00:00Z' };
    it.each([
      ['a Service', DEPLOYMENT.replace('kind: Deployment', 'kind: Service'), /holds no Deployment \(it holds Service\/torghut-ws\)/],
      ['no kind', DEPLOYMENT.replace('kind: Deployment\n', ''), /holds no Deployment \(it holds \(no kind\)\/torghut-ws\)/],
      ['two Deployments and no name to tell them apart', `${DEPLOYMENT}---\n${DEPLOYMENT.replace('name: torghut-ws\n  namespace', 'name: other\n  namespace')}`, /2 documents that are a Deployment \(documents 1 and 2\)/],
      ['an empty file', '# nothing here\n', /holds no Deployment \(it holds no document\)/],
      ['broken YAML', 'kind: Deployment\nspec: [1, 2\n', /not valid YAML/],
      ['a list', '- kind: Deployment\n', /not a YAML mapping/],
      ['broken YAML in another document of the file', `kind: Service\nspec: [1, 2\n---\n${DEPLOYMENT}`, /not valid YAML/],
      ['no pod template', 'kind: Deployment\nspec:\n  replicas: 1\n', /spec.template is missing/],
      ['replicas as a string', DEPLOYMENT.replace('replicas: 2', 'replicas: "2"'), /spec.replicas must be an integer/],
    ])('%s', (_name, text, message) => {
      expect(() => applyRestartPatch(text, at)).toThrow(ManifestError);
      expect(() => applyRestartPatch(text, at)).toThrow(message);
    });

    it.each(['yesterday', '', '2026-02-08 10:00:00', '2026-02-08', '2026-13-45T99:00:00Z'])('restartedAt %j', (restartedAt) => {
      expect(() => applyRestartPatch(DEPLOYMENT, { restartedAt })).toThrow(/restartedAt must be an ISO-8601 timestamp/);
    });

    it('negative expectedReplicas', () => {
      expect(() => applyRestartPatch(DEPLOYMENT, { ...at, expectedReplicas: -1 })).toThrow(ManifestError);
    });
  });
});

/** A file as real GitOps repositories hold it: the Service and the Deployment together, comments between, flow maps. */
const SERVICE = `# torghut-ws: Service and Deployment in one file (kustomize-free app of apps).
apiVersion: v1
kind: Service
metadata: {name: torghut-ws, namespace: torghut, labels: {app: torghut-ws}}
spec:
  selector: { app: torghut-ws }
  ports: [{name: http, port: 8080, targetPort: http}]
`;
const BETWEEN = `# ---------------------------------------------------------------
# The forwarder itself. Keep replicas at 1 (Alpaca 406 otherwise).
`;
const ROLE = `
# the pod's own Role, last in the file
kind: Role
apiVersion: rbac.authorization.k8s.io/v1
metadata: { name: torghut-ws, namespace: torghut }
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
`;
const MULTI = `${SERVICE}---\n${BETWEEN}${DEPLOYMENT}---${ROLE}`;

/** The one range in which two texts differ: everything before `start` and after `endBefore`/`endAfter` is identical. */
function changedRange(before: string, after: string): { start: number; endBefore: number; endAfter: number } {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let tail = 0;
  while (tail < before.length - start && tail < after.length - start && before[before.length - 1 - tail] === after[after.length - 1 - tail]) tail++;
  return { start, endBefore: before.length - tail, endAfter: after.length - tail };
}

describe('applyRestartPatch on a file of several documents', () => {
  const at = { restartedAt: '2026-02-08T10:00:00Z', expectedReplicas: 1, name: 'torghut-ws' };

  it('Service + Deployment + Role in one file → only the Deployment changes; the other documents keep every byte', () => {
    const patch = applyRestartPatch(MULTI, at);
    expect(patch.changes).toEqual(['replicas: 2 → 1', 'restartedAt: 2026-01-01T09:30:00Z → 2026-02-08T10:00:00Z']);

    const deploymentStart = MULTI.indexOf(DEPLOYMENT);
    const deploymentEnd = deploymentStart + DEPLOYMENT.length;
    const range = changedRange(MULTI, patch.text);
    // Every changed byte lies inside the Deployment document; before and after it, byte for byte the same.
    expect(range.start).toBeGreaterThanOrEqual(deploymentStart);
    expect(range.endBefore).toBeLessThanOrEqual(deploymentEnd);
    expect(patch.text.slice(0, deploymentStart)).toBe(`${SERVICE}---\n${BETWEEN}`);
    expect(patch.text.slice(patch.text.length - (MULTI.length - deploymentEnd))).toBe(`---${ROLE}`);
    // And inside it, exactly the two lines of the change, as the single-document patch makes them.
    expect(patch.text.slice(deploymentStart, patch.text.length - (MULTI.length - deploymentEnd))).toBe(applyRestartPatch(DEPLOYMENT, at).text);
  });

  it('the Deployment first, a flow-style ConfigMap after it → an annotation added at the end of the Deployment, before the ---', () => {
    const bare = DEPLOYMENT.replace('        kubectl.kubernetes.io/restartedAt: "2026-01-01T09:30:00Z" # ops-2026-01-01 recovery\n', '');
    const configMap = '---\n# runtime config\n{apiVersion: v1, kind: ConfigMap, metadata: {name: torghut-ws}, data: {KAFKA_BOOTSTRAP: "kafka-kafka-bootstrap.kafka:9092"}}\n';
    const patch = applyRestartPatch(bare + configMap, at);
    expect(patch.text.endsWith(configMap)).toBe(true);
    const deployment = patch.text.slice(0, patch.text.length - configMap.length);
    expect(deployment).toBe(
      bare
        .replace('  replicas: 2 ', '  replicas: 1 ')
        .replace('prometheus.io/port: "8080"\n', 'prometheus.io/port: "8080"\n        kubectl.kubernetes.io/restartedAt: "2026-02-08T10:00:00Z"\n'),
    );
  });

  it('a Deployment with another name beside ours → ours is found by name and only ours changes', () => {
    const other = DEPLOYMENT.replace('name: torghut-ws\n  namespace', 'name: torghut-ws-canary\n  namespace');
    const text = `${other}---\n${DEPLOYMENT}`;
    const patch = applyRestartPatch(text, at);
    expect(patch.text.startsWith(`${other}---\n`)).toBe(true);
    expect(patch.text.slice(other.length + 4)).toBe(applyRestartPatch(DEPLOYMENT, at).text);
  });

  it('two Deployments named torghut-ws in one file → refused as ambiguous, naming both documents', () => {
    const text = `${SERVICE}---\n${DEPLOYMENT}---\n${DEPLOYMENT}`;
    const error = catchError(() => applyRestartPatch(text, at));
    expect(error).toBeInstanceOf(ManifestError);
    expect(error.problem).toBe('ambiguous');
    expect(error.message).toBe(
      'deployment manifest holds 2 documents that are a Deployment named torghut-ws (documents 2 and 3): refusing to guess which one to change',
    );
  });

  it('no Deployment of that name → refused as not found, listing what the file holds', () => {
    const error = catchError(() => applyRestartPatch(MULTI, { ...at, name: 'torghut-ta' }));
    expect(error.problem).toBe('not-found');
    expect(error.message).toBe('deployment manifest holds no Deployment named torghut-ta (it holds Service/torghut-ws, Deployment/torghut-ws, Role/torghut-ws)');
  });
});

function catchError(fn: () => unknown): ManifestError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ManifestError) return err;
    throw err;
  }
  throw new Error('expected a ManifestError, nothing was thrown');
}

describe('readGitOpsFacts', () => {
  const CONFIGMAP = `apiVersion: v1
kind: ConfigMap
metadata:
  name: torghut-ws
  namespace: torghut
data:
  # as deployed (runbook, procedure C)
  KAFKA_BOOTSTRAP: kafka-kafka-bootstrap.kafka:9092
  ALPACA_FEED: sip
`;

  it('reads replicas, restartedAt and KAFKA_BOOTSTRAP as Git declares them', () => {
    expect(readGitOpsFacts(DEPLOYMENT, CONFIGMAP)).toEqual({
      replicas: 2,
      restartedAt: '2026-01-01T09:30:00Z',
      kafkaBootstrap: 'kafka-kafka-bootstrap.kafka:9092',
    });
  });

  it('reports what is absent as null', () => {
    const bare = 'apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec: {}\n';
    expect(readGitOpsFacts(bare)).toEqual({ replicas: null, restartedAt: null, kafkaBootstrap: null });
    expect(readGitOpsFacts(bare, 'kind: ConfigMap\ndata: {}\n').kafkaBootstrap).toBeNull();
  });

  it('rejects a configmap file that holds something else', () => {
    expect(() => readGitOpsFacts(DEPLOYMENT, DEPLOYMENT)).toThrow(/configmap manifest holds no ConfigMap \(it holds Deployment\/torghut-ws\)/);
  });

  it('finds the Deployment and the ConfigMap by name in files of several documents', () => {
    const otherConfig = CONFIGMAP.replace('name: torghut-ws', 'name: torghut-ta').replace('kafka-kafka-bootstrap.kafka:9092', 'wrong:9092');
    const facts = readGitOpsFacts(MULTI, `${otherConfig}---\n${CONFIGMAP}`, { deployment: 'torghut-ws', configMap: 'torghut-ws' });
    expect(facts).toEqual({ replicas: 2, restartedAt: '2026-01-01T09:30:00Z', kafkaBootstrap: 'kafka-kafka-bootstrap.kafka:9092' });
    expect(() => readGitOpsFacts(MULTI, `${otherConfig}---\n${CONFIGMAP}`)).toThrow(/2 documents that are a ConfigMap/);
  });
});
