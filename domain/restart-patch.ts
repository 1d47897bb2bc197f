/**
 * The GitOps restart: bump `spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]` in a
 * Deployment manifest and reset `spec.replicas` when it drifted, changing nothing else.
 *
 * The Deployment is found in its file by kind and name, as real GitOps repositories hold it: a file
 * may carry several documents (a Service, the Deployment, comments between them). Every document is
 * parsed with `parseAllDocuments`, whose node ranges are offsets into the whole file, so the edit
 * lands in the right document and every other document keeps every byte. A file with no Deployment
 * of that name, or two, is refused (ManifestError with `problem` 'not-found' / 'ambiguous'): guessing
 * which one Argo CD applies is not the automation's call.
 *
 * The manifest is read with the `yaml` Document API, which gives every node and its source range. Only
 * the bytes of the values that change are rewritten, and missing maps are inserted as new lines at the
 * indentation of their siblings; re-serialising the whole document (`doc.toString()`) would re-flow
 * long lines and re-indent sequences, which shows up as noise in the PR a human must review. Flow
 * collections (`annotations: {}`) are the one exception: that single node is re-rendered from a clone
 * edited with `setIn`. Every result is parsed again and compared with the intended change, so a patch
 * that would mean anything else is refused instead of committed.
 *
 * Pure: no I/O. Imported by the GitHub activities and by anything that wants to preview the change.
 */
import { Document, isMap, isScalar, parseAllDocuments, Scalar } from 'yaml';
import type { Pair, YAMLMap } from 'yaml';
import { RESTARTED_AT_ANNOTATION } from './diagnosis';

export { RESTARTED_AT_ANNOTATION };

/**
 * What is wrong with a manifest: not valid YAML or not patchable ('invalid'), no document of the wanted
 * kind and name ('not-found'), more than one ('ambiguous').
 */
export type ManifestProblem = 'invalid' | 'not-found' | 'ambiguous';

/** The manifest (or an option) is not what a restart patch can work on; retrying will not help. */
export class ManifestError extends Error {
  override name = 'ManifestError';
  readonly problem: ManifestProblem;
  constructor(message: string, options?: { cause?: unknown; problem?: ManifestProblem }) {
    super(message, options);
    this.problem = options?.problem ?? 'invalid';
  }
}

export interface RestartPatchOptions {
  /** ISO-8601 timestamp (RFC 3339, as `kubectl rollout restart` writes it). */
  restartedAt: string;
  /** Reset `spec.replicas` to this when it differs. Unset leaves replicas alone. */
  expectedReplicas?: number;
  /** `metadata.name` of the Deployment to patch; unset: the file's only Deployment. */
  name?: string;
}

/** Which manifests a file read looks for (`metadata.name`); unset: the only one of its kind. */
export interface ManifestNames {
  deployment?: string;
  configMap?: string;
}

export interface RestartPatch {
  /** The patched manifest; identical to the input when nothing needed to change. */
  text: string;
  /** One human-readable line per changed field, e.g. `replicas: 2 → 1`; empty when already applied. */
  changes: string[];
  previousRestartedAt: string | null;
  /** `spec.replicas` before the patch; null when absent (Kubernetes then defaults to 1). */
  previousReplicas: number | null;
}

export interface ManifestFacts {
  replicas: number | null;
  restartedAt: string | null;
  kafkaBootstrap: string | null;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const KUBERNETES_DEFAULT_REPLICAS = 1;

/** Applies the restart patch; throws ManifestError for anything but one Deployment or a bad option. */
export function applyRestartPatch(manifestText: string, opts: RestartPatchOptions): RestartPatch {
  if (!ISO_8601.test(opts.restartedAt) || Number.isNaN(Date.parse(opts.restartedAt))) {
    throw new ManifestError(`restartedAt must be an ISO-8601 timestamp such as 2026-02-08T10:00:00Z, got ${JSON.stringify(opts.restartedAt)}`);
  }
  const expected = opts.expectedReplicas;
  if (expected !== undefined && (!Number.isInteger(expected) || expected < 0)) {
    throw new ManifestError(`expectedReplicas must be a non-negative integer, got ${String(expected)}`);
  }

  const wanted: Wanted = { kind: 'Deployment', name: opts.name, what: 'deployment manifest' };
  const original = findManifest(manifestText, wanted);
  const before = deploymentFacts(original.doc);
  const changes: string[] = [];
  let text = manifestText;

  const effectiveReplicas = before.replicas ?? KUBERNETES_DEFAULT_REPLICAS;
  const resetReplicas = expected !== undefined && effectiveReplicas !== expected;
  if (resetReplicas) {
    text = splice(text, replicasEdit(text, findManifest(text, wanted).doc, expected));
    changes.push(`replicas: ${before.replicas === null ? `(unset, default ${KUBERNETES_DEFAULT_REPLICAS})` : before.replicas} → ${expected}`);
  }
  if (before.restartedAt !== opts.restartedAt) {
    text = splice(text, annotationEdit(text, findManifest(text, wanted).doc, opts.restartedAt));
    changes.push(`restartedAt: ${before.restartedAt ?? '(unset)'} → ${opts.restartedAt}`);
  }

  verify(manifestText, text, wanted, opts.restartedAt, resetReplicas ? expected : undefined);
  return { text, changes, previousRestartedAt: before.restartedAt, previousReplicas: before.replicas };
}

/** Replicas, restartedAt and KAFKA_BOOTSTRAP as the GitOps files declare them. */
export function readGitOpsFacts(deploymentText: string, configMapText?: string, names: ManifestNames = {}): ManifestFacts {
  const facts = deploymentFacts(findManifest(deploymentText, { kind: 'Deployment', name: names.deployment, what: 'deployment manifest' }).doc);
  let kafkaBootstrap: string | null = null;
  if (configMapText !== undefined) {
    const configMap = findManifest(configMapText, { kind: 'ConfigMap', name: names.configMap, what: 'configmap manifest' }).doc;
    const value: unknown = configMap.getIn(['data', 'KAFKA_BOOTSTRAP']);
    kafkaBootstrap = scalarText(value);
  }
  return { ...facts, kafkaBootstrap };
}

/** One key of `data` of the ConfigMap named `name` in a (multi-document) file; null when absent. */
export function readConfigMapValue(text: string, key: string, name?: string): string | null {
  const configMap = findManifest(text, { kind: 'ConfigMap', name, what: 'configmap manifest' }).doc;
  return scalarText(configMap.getIn(['data', key]));
}

// ---------------------------------------------------------------------------------------------------
// Parsing and reading

interface Wanted {
  kind: string;
  /** metadata.name; unset: the file must hold exactly one document of this kind. */
  name: string | undefined;
  /** How messages name the file, e.g. `deployment manifest`. */
  what: string;
}

/** One document of a (multi-document) file, with its position among the file's documents. */
interface Found {
  doc: Document.Parsed;
  index: number;
}

/**
 * The one document of `wanted.kind` (and name) in the file. Every document must be valid YAML and a
 * mapping (as Kubernetes requires); none or several matches are refused, naming what the file holds.
 */
function findManifest(text: string, wanted: Wanted): Found {
  const { kind, name, what } = wanted;
  const docs = parseAllDocuments(text);
  const held: string[] = [];
  const matches: Found[] = [];
  docs.forEach((doc, index) => {
    const error = doc.errors[0];
    if (error) throw new ManifestError(`${what} is not valid YAML: ${error.message}`, { cause: error });
    if (doc.contents === null) return;
    if (!isMap(doc.contents)) throw new ManifestError(`${what} is not a YAML mapping (document ${index + 1})`);
    const docKind = scalarText(doc.get('kind'));
    const docName = scalarText(doc.getIn(['metadata', 'name']));
    held.push(`${docKind ?? '(no kind)'}/${docName ?? '(no name)'}`);
    if (docKind === kind && (name === undefined || docName === name)) matches.push({ doc, index });
  });
  const subject = `${kind}${name === undefined ? '' : ` named ${name}`}`;
  if (matches.length === 0) {
    const holds = held.length === 0 ? 'no document' : held.join(', ');
    throw new ManifestError(`${what} holds no ${subject} (it holds ${holds})`, { problem: 'not-found' });
  }
  if (matches.length > 1) {
    const where = matches.map((m) => m.index + 1).join(' and ');
    throw new ManifestError(`${what} holds ${matches.length} documents that are a ${subject} (documents ${where}): refusing to guess which one to change`, {
      problem: 'ambiguous',
    });
  }
  return matches[0]!;
}

function deploymentFacts(doc: Document.Parsed): { replicas: number | null; restartedAt: string | null } {
  const replicas: unknown = doc.getIn(['spec', 'replicas']);
  if (replicas !== undefined && replicas !== null && !(typeof replicas === 'number' && Number.isInteger(replicas))) {
    throw new ManifestError(`spec.replicas must be an integer, found ${JSON.stringify(replicas)}`);
  }
  const restartedAt: unknown = doc.getIn(['spec', 'template', 'metadata', 'annotations', RESTARTED_AT_ANNOTATION]);
  return {
    replicas: typeof replicas === 'number' ? replicas : null,
    restartedAt: scalarText(restartedAt),
  };
}

/** A scalar read from YAML as text (null when absent); collections are shown as JSON. */
function scalarText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------------
// Edits: each is computed from a fresh parse of the current text and touches one place.

interface Edit {
  start: number;
  end: number;
  text: string;
}

function splice(text: string, edit: Edit): string {
  return text.slice(0, edit.start) + edit.text + text.slice(edit.end);
}

function replicasEdit(text: string, doc: Document.Parsed, replicas: number): Edit {
  const spec = mapAt(doc.contents as YAMLMap, 'spec', 'spec');
  const pair = pairOf(spec, 'replicas');
  if (pair) return setScalar(text, pair, String(replicas), 'spec.replicas');
  return insertEntries(text, spec, undefined, ['replicas'], new Scalar(replicas), 'first');
}

function annotationEdit(text: string, doc: Document.Parsed, restartedAt: string): Edit {
  const spec = mapAt(doc.contents as YAMLMap, 'spec', 'spec');
  const template = mapAt(spec, 'template', 'spec.template');
  const metadataPair = pairOf(template, 'metadata');
  const value = quoted(restartedAt, 'QUOTE_DOUBLE');
  if (!metadataPair || isNullValue(metadataPair)) {
    return insertEntries(text, template, metadataPair, ['metadata', 'annotations', RESTARTED_AT_ANNOTATION], value, 'first');
  }
  const metadata = mapAt(template, 'metadata', 'spec.template.metadata');
  const annotationsPair = pairOf(metadata, 'annotations');
  if (!annotationsPair || isNullValue(annotationsPair)) {
    return insertEntries(text, metadata, annotationsPair, ['annotations', RESTARTED_AT_ANNOTATION], value, 'last');
  }
  const annotations = mapAt(metadata, 'annotations', 'spec.template.metadata.annotations');
  const pair = pairOf(annotations, RESTARTED_AT_ANNOTATION);
  if (!pair) return insertEntries(text, annotations, undefined, [RESTARTED_AT_ANNOTATION], value, 'last');
  // Keep single quotes if the author chose them; otherwise double quotes, as kubectl writes it.
  const style = isScalar(pair.value) && pair.value.type === 'QUOTE_SINGLE' ? 'QUOTE_SINGLE' : 'QUOTE_DOUBLE';
  return setScalar(text, pair, renderScalar(restartedAt, style), `annotation ${RESTARTED_AT_ANNOTATION}`);
}

/** Rewrites the value of an existing `key: value` pair (also `key:` with no value) in place. */
function setScalar(text: string, pair: Pair, rendered: string, what: string): Edit {
  if (pair.value !== null && !isScalar(pair.value)) throw new ManifestError(`${what} is not a scalar`);
  const range = pair.value?.range;
  if (range && range[1] > range[0]) return { start: range[0], end: range[1], text: rendered };
  // `key:` with nothing after it: write the value right after the colon.
  const keyEnd = (pair.key as Scalar | null)?.range?.[1];
  const colon = keyEnd === undefined ? -1 : text.indexOf(':', keyEnd);
  if (colon === -1) throw new ManifestError(`internal: cannot locate ${what} in the source`);
  return { start: colon + 1, end: colon + 1, text: ` ${rendered}` };
}

/**
 * Adds `path: value` (nested maps for each path step) to `map`, or under `nullPair` (`key:` with no
 * value) when the first step exists but is empty.
 */
function insertEntries(
  text: string,
  map: YAMLMap,
  nullPair: Pair | undefined,
  path: string[],
  value: Scalar,
  placement: 'first' | 'last',
): Edit {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const step = indentStep(text, map);

  if (map.flow) return rerenderFlow(map, path, value);

  if (nullPair && isNullValue(nullPair)) {
    // `annotations:` (or `annotations: null`): the new entries go on the lines below the key.
    const keyRange = (nullPair.key as Scalar).range;
    const valueRange = (nullPair.value as Scalar | null)?.range;
    if (!keyRange) throw new ManifestError('internal: key without a source range');
    const column = columnOf(text, keyRange[0]) + step;
    const lines = renderBlock(path.slice(1), value, column, step, eol);
    const lineEnd = endOfLine(text, (valueRange ?? keyRange)[1]);
    const prefix = lineEnd.needsNewline ? eol : '';
    if (valueRange && valueRange[1] > valueRange[0]) {
      // Drop an explicit `null`/`~` (and the blank before it unless a comment follows), then add the lines.
      const rest = text.slice(valueRange[1], lineEnd.offset);
      let start = valueRange[0];
      if (rest.trim() === '') while (start > 0 && (text[start - 1] === ' ' || text[start - 1] === '\t')) start--;
      return { start, end: lineEnd.offset, text: (rest.trim() === '' ? rest.replace(/^[ \t]+/, '') : rest) + prefix + lines };
    }
    return { start: lineEnd.offset, end: lineEnd.offset, text: prefix + lines };
  }

  const first = map.items[0];
  const last = map.items[map.items.length - 1];
  const firstKeyRange = first && (first.key as Scalar | null)?.range;
  if (!first || !last || !firstKeyRange) throw new ManifestError('internal: empty block mapping');
  const column = columnOf(text, firstKeyRange[0]);
  const lines = renderBlock(path, value, column, step, eol);
  if (placement === 'first') {
    const start = firstKeyRange[0] - column;
    return { start, end: start, text: lines };
  }
  const lastEnd = (last.value as Scalar | YAMLMap | null)?.range?.[1] ?? (last.key as Scalar).range?.[1];
  if (lastEnd === undefined) throw new ManifestError('internal: pair without a source range');
  const lineEnd = endOfLine(text, lastEnd);
  return { start: lineEnd.offset, end: lineEnd.offset, text: (lineEnd.needsNewline ? eol : '') + lines };
}

/** A flow collection (`{}` or `{ a: b }`) is re-rendered as one node; everything around it stays. */
function rerenderFlow(map: YAMLMap, path: string[], value: Scalar): Edit {
  const range = map.range;
  if (!range) throw new ManifestError('internal: mapping without a source range');
  const clone = map.clone() as YAMLMap;
  // setIn cannot descend into `key: null`; an empty key is replaced by the new nested mapping.
  const head = path[0];
  if (head !== undefined && path.length > 1 && clone.has(head) && !isMap(clone.get(head, true))) clone.delete(head);
  clone.setIn(path, value);
  // Comments around the node lie outside its range and stay in the text; do not render them twice.
  clone.comment = null;
  clone.commentBefore = null;
  const rendered = new Document(clone).toString({ lineWidth: 0 }).trimEnd();
  return { start: range[0], end: range[1], text: rendered };
}

function renderBlock(path: string[], value: Scalar, column: number, step: number, eol: string): string {
  return path
    .map((key, i) => {
      const indent = ' '.repeat(column + i * step);
      const isLeaf = i === path.length - 1;
      return `${indent}${renderKey(key)}:${isLeaf ? ` ${renderScalarNode(value)}` : ''}${eol}`;
    })
    .join('');
}

function renderKey(key: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(key) ? key : JSON.stringify(key);
}

function renderScalarNode(value: Scalar): string {
  if (typeof value.value === 'number') return String(value.value);
  return renderScalar(String(value.value), value.type === 'QUOTE_SINGLE' ? 'QUOTE_SINGLE' : 'QUOTE_DOUBLE');
}

function renderScalar(text: string, style: 'QUOTE_SINGLE' | 'QUOTE_DOUBLE'): string {
  return style === 'QUOTE_SINGLE' ? `'${text.replace(/'/g, "''")}'` : JSON.stringify(text);
}

function quoted(text: string, style: 'QUOTE_DOUBLE'): Scalar {
  const scalar = new Scalar(text);
  scalar.type = style;
  return scalar;
}

// ---------------------------------------------------------------------------------------------------
// Small helpers over the Document's nodes and the source text.

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key);
}

function mapAt(parent: YAMLMap, key: string, path: string): YAMLMap {
  const value = pairOf(parent, key)?.value;
  if (value === undefined || value === null || (isScalar(value) && value.value === null)) {
    throw new ManifestError(`${path} is missing`);
  }
  if (!isMap(value)) throw new ManifestError(`${path} is not a mapping`);
  return value;
}

function isNullValue(pair: Pair): boolean {
  return pair.value === null || (isScalar(pair.value) && pair.value.value === null);
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/** The offset just after the line that contains `offset - 1` (where a new line can be inserted). */
function endOfLine(text: string, offset: number): { offset: number; needsNewline: boolean } {
  if (offset > 0 && text[offset - 1] === '\n') return { offset, needsNewline: false };
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? { offset: text.length, needsNewline: true } : { offset: newline + 1, needsNewline: false };
}

/** How far this manifest indents a nested mapping (the distance from a key to its first child). */
function indentStep(text: string, map: YAMLMap): number {
  for (const pair of map.items) {
    const key = (pair.key as Scalar | null)?.range;
    const child = isMap(pair.value) && !pair.value.flow ? (pair.value.items[0]?.key as Scalar | undefined)?.range : undefined;
    if (key && child) {
      const step = columnOf(text, child[0]) - columnOf(text, key[0]);
      if (step > 0) return step;
    }
  }
  return 2;
}

// ---------------------------------------------------------------------------------------------------
// The safety net: the patched text must mean exactly the original plus the intended change.

function verify(originalText: string, patchedText: string, wanted: Wanted, restartedAt: string, replicas: number | undefined): void {
  const originals = parseAllDocuments(originalText).map((doc) => doc.toJS() as unknown);
  const { index } = findManifest(originalText, wanted);
  const expected = originals[index] as Record<string, unknown>;
  const spec = objectAt(expected, 'spec');
  if (replicas !== undefined) spec.replicas = replicas;
  const annotations = objectAt(objectAt(objectAt(spec, 'template'), 'metadata'), 'annotations');
  annotations[RESTARTED_AT_ANNOTATION] = restartedAt;

  const patched = parseAllDocuments(patchedText);
  const found = findManifest(patchedText, { ...wanted, what: 'patched deployment manifest' });
  const same = patched.length === originals.length && found.index === index && patched.every((doc, i) => deepEqual(doc.toJS(), originals[i]));
  if (!same) {
    throw new ManifestError('refusing the restart patch: the edited manifest would change more than restartedAt and replicas');
  }
}

function objectAt(parent: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = parent[key];
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  const created: Record<string, unknown> = {};
  parent[key] = created;
  return created;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
