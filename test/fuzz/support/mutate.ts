/**
 * Structural mutations of a valid document (a webhook body, a runbook, a scenario, a readiness
 * body): one node picked by position, then deleted, replaced by any JSON value, wrapped in an array,
 * or turned into a string. A few mutations in a row take a valid document anywhere near it.
 */
import fc from 'fast-check';

export interface Mutation {
  /** Which node (modulo the number of nodes), in depth-first order. */
  at: number;
  action: 'delete' | 'replace' | 'wrap' | 'stringify' | 'empty';
  value: unknown;
}

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  action: fc.constantFrom('delete', 'replace', 'wrap', 'stringify', 'empty'),
  value: fc.jsonValue({ maxDepth: 3 }),
});

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number };

function slots(node: unknown, out: Slot[] = []): Slot[] {
  if (Array.isArray(node)) {
    node.forEach((child, i) => {
      out.push({ parent: node, key: i });
      slots(child, out);
    });
  } else if (node !== null && typeof node === 'object') {
    for (const [key, child] of Object.entries(node)) {
      out.push({ parent: node as Record<string, unknown>, key });
      slots(child, out);
    }
  }
  return out;
}

/** `doc` with the mutations applied, in order (the input is not changed). */
export function mutate(doc: unknown, mutations: readonly Mutation[]): unknown {
  let root: unknown = structuredClone(doc);
  for (const m of mutations) {
    const all = slots(root);
    if (all.length === 0) {
      root = m.action === 'delete' ? undefined : m.value;
      continue;
    }
    const { parent, key } = all[m.at % all.length]!;
    const container = parent as Record<string | number, unknown>;
    const current = container[key];
    switch (m.action) {
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete container[key];
        break;
      case 'replace':
        container[key] = m.value;
        break;
      case 'wrap':
        container[key] = [current];
        break;
      case 'stringify':
        container[key] = JSON.stringify(current) ?? '';
        break;
      case 'empty':
        container[key] = Array.isArray(current) ? [] : typeof current === 'object' && current !== null ? {} : '';
        break;
    }
  }
  return root;
}

/** A document `doc` mutated by one to `max` mutations. */
export function mutated(doc: unknown, max = 4): fc.Arbitrary<unknown> {
  return fc.array(mutation, { minLength: 1, maxLength: max }).map((ms) => mutate(doc, ms));
}
