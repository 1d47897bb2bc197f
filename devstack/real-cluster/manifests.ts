/**
 * Applying manifests to the real test control plane the way GitOps does: server-side apply
 * (`application/apply-patch+yaml`, forced, one field manager per actor), object by object, with
 * the target namespace rewritten so each test owns its namespace. Used for the shipped RBAC in
 * deploy/kubernetes (applied as it is, only its namespace changed) and for what the simulated
 * Argo CD syncs from Git.
 */
import { readFileSync } from 'node:fs';
import { KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

/** Every YAML document of a manifest text, as plain objects (empty documents skipped). */
export function parseManifests(text: string, source = '(inline)'): KubernetesObject[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as KubernetesObject | null;
    return value ? [value] : [];
  });
}

export function readManifests(path: string): KubernetesObject[] {
  return parseManifests(readFileSync(path, 'utf8'), path);
}

/**
 * The objects with every mention of namespace `from` — metadata.namespace and RoleBinding subjects —
 * replaced by `to`. Nothing else changes.
 */
export function inNamespace<T extends KubernetesObject>(objects: T[], from: string, to: string): T[] {
  return objects.map((object) => {
    const copy = structuredClone(object) as T & { subjects?: Array<{ namespace?: string }> };
    if (copy.metadata?.namespace === from) copy.metadata.namespace = to;
    for (const subject of copy.subjects ?? []) if (subject.namespace === from) subject.namespace = to;
    return copy;
  });
}

/** Server-side applies each object in order (forced: this actor owns what it writes). */
export async function applyObjects(kc: KubeConfig, objects: KubernetesObject[], fieldManager: string): Promise<KubernetesObject[]> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  const applied: KubernetesObject[] = [];
  for (const object of objects) {
    applied.push(await client.patch(object, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply));
  }
  return applied;
}
