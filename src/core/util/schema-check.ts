/**
 * A small interpreter for the JSON Schema subset vouch's own document schemas
 * use (type, properties, required, additionalProperties, items, enum, const,
 * pattern, anyOf, oneOf, minItems, maxItems, minProperties, minimum, maximum,
 * minLength, maxLength, uniqueItems, maxProperties, propertyNames, format date-time). ajv compiles a schema to code
 * first, which costs hundreds of milliseconds per process for the approval
 * schemas; `vouch verify` must start and answer in well under half a second.
 * Tests validate the same documents with ajv and expect the same verdicts.
 * Returns the first error (ajv's wording and instancePath), or null.
 */

export interface SchemaError {
  instancePath: string;
  keyword: string;
  message: string;
  params?: Record<string, unknown>;
}

type Schema = Record<string, any>;

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const patterns = new Map<string, RegExp>();

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function hasType(v: unknown, t: string): boolean {
  const a = typeOf(v);
  return a === t || (t === 'number' && a === 'integer');
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function checkSchema(schema: Schema, value: unknown, path = ''): SchemaError | null {
  const err = (keyword: string, message: string, params?: Record<string, unknown>): SchemaError => ({ instancePath: path, keyword, message, ...(params ? { params } : {}) });
  if (schema.type !== undefined) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => hasType(value, t))) return err('type', `must be ${types.join(',')}`);
  }
  if ('const' in schema && !equal(value, schema.const)) return err('const', 'must be equal to constant');
  if (schema.enum && !schema.enum.some((e: unknown) => equal(e, value))) return err('enum', 'must be equal to one of the allowed values');
  if (schema.anyOf) {
    if (!schema.anyOf.some((s: Schema) => checkSchema(s, value, path) === null)) return err('anyOf', 'must match a schema in anyOf');
  }
  if (schema.oneOf) {
    const n = schema.oneOf.filter((s: Schema) => checkSchema(s, value, path) === null).length;
    if (n !== 1) return err('oneOf', 'must match exactly one schema in oneOf');
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) return err('minLength', `must NOT have fewer than ${schema.minLength} characters`);
    // ajv counts code points, not UTF-16 units.
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) return err('maxLength', `must NOT have more than ${schema.maxLength} characters`);
    if (schema.pattern !== undefined) {
      let re = patterns.get(schema.pattern);
      if (!re) patterns.set(schema.pattern, (re = new RegExp(schema.pattern, 'u')));
      if (!re.test(value)) return err('pattern', `must match pattern "${schema.pattern}"`);
    }
    if (schema.format === 'date-time' && !(DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)))) return err('format', 'must match format "date-time"');
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return err('minimum', `must be >= ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) return err('maximum', `must be <= ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return err('minItems', `must NOT have fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return err('maxItems', `must NOT have more than ${schema.maxItems} items`);
    if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) return err('uniqueItems', 'must NOT have duplicate items');
    if (schema.items) {
      for (let i = 0; i < value.length; i++) {
        const e = checkSchema(schema.items, value[i], `${path}/${i}`);
        if (e) return e;
      }
    }
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (schema.minProperties !== undefined && keys.length < schema.minProperties) return err('minProperties', `must NOT have fewer than ${schema.minProperties} properties`);
    if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) return err('maxProperties', `must NOT have more than ${schema.maxProperties} properties`);
    if (schema.propertyNames) {
      for (const k of keys) if (checkSchema(schema.propertyNames, k, path)) return err('propertyNames', 'property name must be valid', { propertyName: k });
    }
    for (const r of schema.required ?? []) {
      if (!Object.hasOwn(obj, r)) return err('required', `must have required property '${r}'`, { missingProperty: r });
    }
    const props: Record<string, Schema> = schema.properties ?? {};
    for (const k of keys) {
      if (Object.hasOwn(props, k)) {
        const e = checkSchema(props[k]!, obj[k], `${path}/${k}`);
        if (e) return e;
      } else if (schema.additionalProperties === false) {
        return err('additionalProperties', 'must NOT have additional properties', { additionalProperty: k });
      } else if (typeof schema.additionalProperties === 'object') {
        const e = checkSchema(schema.additionalProperties, obj[k], `${path}/${k}`);
        if (e) return e;
      }
    }
  }
  return null;
}
