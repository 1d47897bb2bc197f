/**
 * Holds simulator answers to a real API's published description: GitHub's OpenAPI 3.0 document
 * (`@octokit/openapi`) or Argo CD's Swagger 2.0 (`/work/shared/reference/argocd-swagger.json`, copied
 * to test/fixtures/argocd-swagger.json). For an operation (method + path template, as the
 * description names it) and a status code it finds the documented response schema and validates a
 * body against it with ajv, STRICTLY:
 *
 * - an object schema that lists `properties` and says nothing about `additionalProperties` accepts
 *   no other field (a field the real API never sends is a simulator bug: client code written against
 *   the simulator could come to depend on it);
 * - `required` is enforced, `nullable: true` (OpenAPI 3.0) accepts null and only then;
 * - `allOf` branches that are objects are merged into one object first (otherwise each branch's
 *   closed property list would reject the other's fields); `oneOf` is read as `anyOf` (GitHub's
 *   branches overlap: a null `value` matches three of them);
 * - an object schema with no `properties` is a free-form map, as the description means.
 *
 * A status the operation does not document is checked against `fallback` (GitHub's `basic-error`,
 * Argo CD's documented `default`) and reported as undocumented, so a test can insist on it.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';

type Schema = Record<string, unknown>;
type Doc = {
  openapi?: string;
  swagger?: string;
  paths: Record<string, Record<string, { operationId?: string; responses: Record<string, Schema>; parameters?: Schema[]; requestBody?: Schema }>>;
  components?: { schemas?: Record<string, Schema>; responses?: Record<string, Schema>; requestBodies?: Record<string, Schema> };
  definitions?: Record<string, Schema>;
};

export interface ContractCheck {
  /** `GET /repos/{owner}/{repo}/pulls 200` */
  operation: string;
  /** Which schema was used: the documented status, `default`, or the fallback. */
  against: string;
  documented: boolean;
  /** Empty when the body conforms. */
  errors: string[];
}

/** OpenAPI/Swagger keywords that say nothing about validity (ajv need not see them). */
const ANNOTATIONS = new Set(['title', 'description', 'example', 'examples', 'xml', 'externalDocs', 'discriminator', 'readOnly', 'writeOnly', 'deprecated']);

// ajv-formats is CommonJS with a default export; under ESM interop it may arrive wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

export class ApiContract {
  private readonly ajv: Ajv;
  private readonly refBase: string;
  private readonly raw: Record<string, Schema>;
  /** Strict versions of the description's named schemas, built on demand. */
  private readonly strict: Record<string, Schema> = {};
  private readonly building = new Set<string>();
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(
    readonly name: string,
    private readonly doc: Doc,
    /** The schema for a status the operation does not document. */
    private readonly fallback: (contract: ApiContract) => Schema | undefined,
  ) {
    const openapi = typeof doc.openapi === 'string';
    this.refBase = openapi ? '#/components/schemas/' : '#/definitions/';
    this.raw = (openapi ? doc.components?.schemas : doc.definitions) ?? {};
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
  }

  static fromFile(name: string, path: string, fallback: (contract: ApiContract) => Schema | undefined): ApiContract {
    return new ApiContract(name, JSON.parse(readFileSync(path, 'utf8')) as Doc, fallback);
  }

  /** A named schema of the description (`basic-error`, `runtimeError`) as a `$ref`. */
  ref(name: string): Schema {
    if (!this.raw[name]) throw new Error(`${this.name}: no schema ${name}`);
    return { $ref: `${this.refBase}${name}` };
  }

  hasOperation(method: string, template: string): boolean {
    return Boolean(this.doc.paths[template]?.[method.toLowerCase()]);
  }

  /** Validates a response body of `METHOD template` with `status`. */
  checkResponse(method: string, template: string, status: number, body: unknown): ContractCheck {
    const operation = `${method.toUpperCase()} ${template} ${status}`;
    const op = this.doc.paths[template]?.[method.toLowerCase()];
    if (!op) return { operation, against: 'nothing', documented: false, errors: [`${this.name} describes no operation ${method.toUpperCase()} ${template}`] };
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => op.responses[k] !== undefined);
    const response = key ? this.resolve(op.responses[key]!) : undefined;
    let schema = response ? this.responseSchema(response) : undefined;
    let against = key ? `${op.operationId ?? template} ${key}` : 'fallback';
    const documented = key !== undefined;
    if (!key) {
      schema = this.fallback(this);
      against = `fallback (${op.operationId ?? template} does not document ${status})`;
    }
    if (status === 204 || (key && response && !schema)) {
      // Documented without a body (204, 304, GitHub's "Response if ... is not found" 404s without content).
      const empty = body === undefined || body === '' || body === null;
      return { operation, against, documented, errors: empty ? [] : [`the description documents no body, got ${JSON.stringify(body).slice(0, 200)}`] };
    }
    if (!schema) return { operation, against, documented, errors: [`no schema to check ${status} against`] };
    return { operation, against, documented, errors: this.validate(schema, body) };
  }

  /** Validates a request body against the operation's documented body (OpenAPI requestBody or Swagger `in: body`). */
  checkRequest(method: string, template: string, body: unknown): ContractCheck {
    const operation = `${method.toUpperCase()} ${template} request`;
    const op = this.doc.paths[template]?.[method.toLowerCase()];
    if (!op) return { operation, against: 'nothing', documented: false, errors: [`${this.name} describes no operation ${method.toUpperCase()} ${template}`] };
    const fromBody = op.requestBody ? this.responseSchema(this.resolve(op.requestBody)) : undefined;
    const fromParam = op.parameters?.map((p) => this.resolve(p)).find((p) => p.in === 'body')?.schema as Schema | undefined;
    const schema = fromBody ?? fromParam;
    if (!schema) return { operation, against: 'nothing', documented: false, errors: ['the operation documents no request body'] };
    return { operation, against: `${op.operationId ?? template} request`, documented: true, errors: this.validate(schema, body) };
  }

  // --- schemas ----------------------------------------------------------------------------------

  private resolve(node: Schema): Schema {
    let current = node;
    for (let depth = 0; typeof current.$ref === 'string' && depth < 10; depth++) {
      const path = current.$ref.replace(/^#\//, '').split('/');
      current = path.reduce<Schema>((at, part) => (at[part] as Schema) ?? {}, this.doc as unknown as Schema);
    }
    return current;
  }

  /** The JSON schema of a response / request body object (OpenAPI `content`, Swagger `schema`). */
  private responseSchema(response: Schema): Schema | undefined {
    if (response.schema) return response.schema as Schema;
    const content = response.content as Record<string, { schema?: Schema }> | undefined;
    if (!content) return undefined;
    const json = Object.entries(content).find(([type]) => /json/.test(type));
    return json?.[1].schema;
  }

  private validate(schema: Schema, body: unknown): string[] {
    const key = JSON.stringify(schema);
    let validator = this.compiled.get(key);
    if (!validator) {
      const root = this.strictify(schema);
      validator = this.ajv.compile({ ...root, definitions: { ...this.strict } });
      this.compiled.set(key, validator);
    }
    return validator(body) ? [] : explain(validator.errors ?? []);
  }

  /** The strict version of a schema node (see the module comment). */
  private strictify(node: Schema): Schema {
    if (typeof node.$ref === 'string') {
      const name = node.$ref.startsWith(this.refBase) ? node.$ref.slice(this.refBase.length) : undefined;
      if (name === undefined) return this.strictify(this.resolve(node));
      if (!this.strict[name] && !this.building.has(name)) {
        this.building.add(name);
        this.strict[name] = this.strictify(this.raw[name] ?? {});
        this.building.delete(name);
      }
      return { $ref: `#/definitions/${name}` };
    }
    if (node.nullable === true) {
      const { nullable: _nullable, ...rest } = node;
      return { anyOf: [this.strictify(rest), { type: 'null' }] };
    }
    if (Array.isArray(node.allOf)) {
      const merged = this.mergeObjects(node.allOf as Schema[]);
      if (merged) {
        const { allOf: _allOf, ...rest } = node;
        return this.strictify({ ...rest, ...merged });
      }
    }
    const out: Schema = {};
    for (const [k, v] of Object.entries(node)) {
      if (ANNOTATIONS.has(k) || k.startsWith('x-')) continue;
      if (k === 'properties') {
        out.properties = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([p, s]) => [p, this.strictify(s)]));
      } else if (k === 'items' || k === 'not' || (k === 'additionalProperties' && typeof v === 'object')) {
        out[k] = this.strictify(v as Schema);
      } else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') {
        out[k === 'oneOf' ? 'anyOf' : k] = (v as Schema[]).map((s) => this.strictify(s));
      } else {
        out[k] = v;
      }
    }
    if (out.properties) {
      out.type ??= 'object';
      out.additionalProperties ??= false;
    }
    return out;
  }

  /** allOf whose branches are all object schemas → one object schema (raw, to be strictified); else null. */
  private mergeObjects(branches: Schema[]): Schema | null {
    const properties: Record<string, Schema> = {};
    const required = new Set<string>();
    let open = false;
    for (const branch of branches) {
      let resolved = this.resolve(branch);
      if (Array.isArray(resolved.allOf)) {
        const inner = this.mergeObjects(resolved.allOf as Schema[]);
        if (!inner) return null;
        resolved = { ...resolved, ...inner, allOf: undefined };
      }
      const isObject = resolved.type === 'object' || resolved.properties !== undefined;
      if (!isObject || resolved.anyOf || resolved.oneOf || resolved.nullable) return null;
      for (const [p, s] of Object.entries((resolved.properties as Record<string, Schema>) ?? {})) {
        properties[p] = properties[p] ? { allOf: [properties[p], s] } : s;
      }
      for (const r of (resolved.required as string[]) ?? []) required.add(r);
      if (resolved.additionalProperties === true || (resolved.properties === undefined && resolved.additionalProperties === undefined)) open = true;
    }
    return { type: 'object', properties, ...(required.size ? { required: [...required] } : {}), ...(open ? { additionalProperties: true } : {}) };
  }
}

/** ajv errors as one line each, naming the field; the null branch of a nullable adds nothing. */
function explain(errors: ErrorObject[]): string[] {
  const lines = errors
    .filter((e) => e.keyword !== 'anyOf' && !(e.keyword === 'type' && (e.params as { type?: string }).type === 'null'))
    .map((e) => {
      const at = e.instancePath || '(body)';
      if (e.keyword === 'additionalProperties') return `${at}: field "${(e.params as { additionalProperty: string }).additionalProperty}" is not in the description`;
      if (e.keyword === 'required') return `${at}: required field "${(e.params as { missingProperty: string }).missingProperty}" is missing`;
      return `${at}: ${e.message ?? e.keyword} (${e.schemaPath})`;
    });
  return [...new Set(lines)];
}
