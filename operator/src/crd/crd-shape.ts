import { readFile } from 'node:fs/promises';
// js-yaml is what @kubernetes/client-node (an operator dependency) parses YAML with. Its own
// loadYaml is no use here: it maps the schema into client-node's model classes, which rename
// `enum` and `default` to `_enum` and `_default` in every schema except those below `items`.
import { load } from 'js-yaml';
import type { Field, Shape } from './shape.js';

/** The parts of an OpenAPI v3 schema (structural, as CRDs require) that decide a value's shape. */
export interface JsonSchema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  enum?: unknown[];
  nullable?: boolean;
  default?: unknown;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

interface CrdDocument {
  spec: {
    versions: {
      name: string;
      schema: { openAPIV3Schema: JsonSchema };
      additionalPrinterColumns?: { name: string; type: string; jsonPath: string }[];
    }[];
  };
}

export type CrdVersion = CrdDocument['spec']['versions'][number];

/** One served version of a CRD file, as the API server would get it. */
export async function readCrdVersion(file: string, version: string): Promise<CrdVersion> {
  const crd = load(await readFile(file, 'utf8')) as CrdDocument;
  const found = crd.spec.versions.find((v) => v.name === version);
  if (!found) throw new Error(`${file}: no version ${version}`);
  return found;
}

/** The shape of a structural schema; `path` only names where an unreadable schema is. */
export function shapeOfSchema(schema: JsonSchema, path = ''): Shape {
  const open = schema['x-kubernetes-preserve-unknown-fields'] === true;
  switch (schema.type) {
    case 'string':
      return schema.enum ? { kind: 'string', enum: schema.enum.map(String) } : { kind: 'string' };
    case 'integer':
    case 'number':
      return { kind: 'number' };
    case 'boolean':
      return schema.enum
        ? { kind: 'boolean', enum: schema.enum.map((v) => v === true) }
        : { kind: 'boolean' };
    case 'array':
      if (!schema.items) throw new Error(`${path}: an array without items`);
      return { kind: 'array', items: shapeOfSchema(schema.items, `${path}[]`) };
    case 'object': {
      const { additionalProperties, properties } = schema;
      if (typeof additionalProperties === 'object')
        return { kind: 'map', values: shapeOfSchema(additionalProperties, `${path}.*`) };
      if (open && !properties) return { kind: 'unknown' };
      const required = new Set(schema.required ?? []);
      const undeclared = [...required].filter((name) => !properties?.[name]);
      // A required name no property declares makes every object invalid (or relies on pruned input).
      if (undeclared.length && !open)
        throw new Error(`${path}: required ${undeclared.join(', ')} not declared`);
      const fields: Record<string, Field> = {};
      for (const [name, property] of Object.entries(properties ?? {})) {
        fields[name] = {
          shape: shapeOfSchema(property, path ? `${path}.${name}` : name),
          required: required.has(name),
          nullable: property.nullable === true,
          ...('default' in property ? { default: property.default } : {}),
        };
      }
      return { kind: 'object', fields };
    }
    default:
      if (open) return { kind: 'unknown' };
      throw new Error(`${path}: a schema without a type`);
  }
}
