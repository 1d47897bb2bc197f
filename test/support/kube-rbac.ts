/**
 * Kubernetes RBAC as the API server evaluates it, for tests: the attributes of a request (what the
 * RequestInfo resolver derives from method and path) and whether a Role's rules allow them (the
 * rule matching of rbac/v1 evaluation helpers: verbs, apiGroups, resources with `*` and
 * `*\/subresource`, resourceNames). Plus the list of reads the diagnosis makes, which the deploy test
 * holds against the shipped Role and the simulator tests hold against the requests really made.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

export const RBAC_MANIFEST = 'deploy/kubernetes/rbac.yaml';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}

export interface RequestAttributes {
  verb: string;
  apiGroup: string;
  /** With the subresource, e.g. `pods/log`. */
  resource: string;
  namespace?: string;
  /** Absent for collections (list, watch, create, deletecollection). */
  name?: string;
}

/** The rules of the Role in the shipped RBAC manifest. */
export function shippedRoleRules(): PolicyRule[] {
  const role = parseAllDocuments(readFileSync(RBAC_MANIFEST, 'utf8'))
    .map((doc) => doc.toJS() as { kind?: string; rules?: PolicyRule[] })
    .find((object) => object.kind === 'Role');
  if (!role) throw new Error(`${RBAC_MANIFEST} has no Role`);
  return role.rules ?? [];
}

/** Attributes of a resource request, as the API server derives them; undefined for other paths. */
export function requestAttributes(method: string, path: string, query: Record<string, string> = {}): RequestAttributes | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let rest: string[];
  let apiGroup: string;
  if (parts[0] === 'api' && parts.length >= 2) {
    apiGroup = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    apiGroup = parts[1]!;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let watch = query.watch === 'true' || query.watch === '1';
  if (rest[0] === 'watch') {
    watch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  if (!resource) return undefined;
  const verb = verbOf(method, name !== undefined, watch);
  return {
    verb,
    apiGroup,
    resource: subresource ? `${resource}/${subresource}` : resource,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
  };
}

function verbOf(method: string, named: boolean, watch: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch ? 'watch' : named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  const verbs = rule.verbs.includes('*') || rule.verbs.includes(a.verb);
  const groups = (rule.apiGroups ?? []).some((g) => g === '*' || g === a.apiGroup);
  const subresource = a.resource.includes('/') ? a.resource.slice(a.resource.indexOf('/') + 1) : '';
  const resources = (rule.resources ?? []).some((r) => r === '*' || r === a.resource || (subresource !== '' && r === `*/${subresource}`));
  const names = !rule.resourceNames?.length || (a.name !== undefined && rule.resourceNames.includes(a.name));
  return verbs && groups && resources && names;
}

export const roleAllows = (rules: PolicyRule[], a: RequestAttributes): boolean => rules.some((rule) => ruleAllows(rule, a));

/** Any pod of the target: reads of pod subresources are made for whichever pods exist. */
export const ANY_POD = '*pod*';

/**
 * Every read the diagnosis makes in the target namespace (shipped runbook), by the attributes the
 * API server authorizes. Nothing on secrets: the Kafka credentials come from the KafkaUser.
 */
export const DIAGNOSIS_READS: RequestAttributes[] = [
  { verb: 'get', apiGroup: 'apps', resource: 'deployments', namespace: 'torghut', name: 'torghut-ws' },
  // The Deployment's ReplicaSets: which pods are the current ReplicaSet's.
  { verb: 'list', apiGroup: 'apps', resource: 'replicasets', namespace: 'torghut' },
  { verb: 'list', apiGroup: '', resource: 'pods', namespace: 'torghut' },
  { verb: 'list', apiGroup: '', resource: 'events', namespace: 'torghut' },
  { verb: 'get', apiGroup: '', resource: 'pods/log', namespace: 'torghut', name: ANY_POD },
  { verb: 'get', apiGroup: '', resource: 'pods/proxy', namespace: 'torghut', name: ANY_POD },
  { verb: 'get', apiGroup: '', resource: 'configmaps', namespace: 'torghut', name: 'torghut-ws' },
  { verb: 'get', apiGroup: 'kafka.strimzi.io', resource: 'kafkausers', namespace: 'torghut', name: 'torghut-ws' },
];

/** The entry of DIAGNOSIS_READS a request is, if any. */
export function diagnosisRead(a: RequestAttributes): RequestAttributes | undefined {
  return DIAGNOSIS_READS.find(
    (read) =>
      read.verb === a.verb &&
      read.apiGroup === a.apiGroup &&
      read.resource === a.resource &&
      read.namespace === a.namespace &&
      (read.name === ANY_POD ? a.name !== undefined : read.name === a.name),
  );
}
