import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { z } from 'zod';
import { commonConfigSchema } from '@shopstream/shared';
import { configSchema as apiConfigSchema } from '../../services/api/src/config.js';
import { configSchema as consumerConfigSchema } from '../../services/consumer/src/config.js';
import { configSchema as relayConfigSchema } from '../../services/relay/src/config.js';
import {
  COMPONENTS,
  baseSchema,
  commonEnvValues,
  componentEnvValues,
  configDescription,
  configDocs,
  notConfigKeys,
} from './workload-schema-base.js';
import type { Component, ConfigKeyDoc, EnvValue, JsonSchema } from './workload-schema-base.js';

/** Where the generated schema is committed. */
export const workloadValuesSchemaFile = join(
  import.meta.dirname,
  '..',
  '..',
  'charts',
  'workload',
  'values.schema.json',
);

/** What the schema is made of: the zod schemas and the hand-written part (injectable for tests). */
export interface SchemaSources {
  shared: z.ZodType;
  components: Record<Component, z.ZodType>;
  base: JsonSchema;
  commonEnvValues: EnvValue[];
  componentEnvValues: Record<Component, EnvValue[]>;
  notConfigKeys: Record<Component, string[]>;
  configDocs: Record<Component, Record<string, ConfigKeyDoc>>;
}

export const repositorySources: SchemaSources = {
  shared: commonConfigSchema,
  components: { api: apiConfigSchema, relay: relayConfigSchema, consumer: consumerConfigSchema },
  base: baseSchema,
  commonEnvValues,
  componentEnvValues,
  notConfigKeys,
  configDocs,
};

/** The generator's input is inconsistent: the message says what to change where. */
export class WorkloadSchemaError extends Error {
  override name = 'WorkloadSchemaError';
}

// zod's integers without bounds of their own carry JavaScript's safe-integer range: noise here.
const SAFE_INTEGER_BOUNDS: [string, number][] = [
  ['minimum', Number.MIN_SAFE_INTEGER],
  ['maximum', Number.MAX_SAFE_INTEGER],
];

/**
 * Each env var's JSON Schema as the process reads it (zod's input side: the strings of the
 * environment before coercion, numbers as integers), keyed by name.
 */
function envSchemas(schema: z.ZodType, where: string): Map<string, JsonSchema> {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-07' }) as {
    properties?: Record<string, JsonSchema>;
  };
  if (!json.properties) throw new WorkloadSchemaError(`${where}: not a zod object of env vars`);
  return new Map(
    Object.entries(json.properties).map(([name, property]) => {
      const cleaned = { ...property };
      for (const [keyword, value] of SAFE_INTEGER_BOUNDS)
        if (cleaned[keyword] === value) delete cleaned[keyword];
      return [name, ordered(cleaned)];
    }),
  );
}

/** `type` and `description` first, as a reader looks for them. */
function ordered(schema: JsonSchema, description?: string): JsonSchema {
  const { type, ...rest } = schema;
  return {
    ...(type === undefined ? {} : { type }),
    ...(description === undefined ? {} : { description }),
    ...rest,
  };
}

function envSchema(schemas: Map<string, JsonSchema>, env: string, where: string): JsonSchema {
  const schema = schemas.get(env);
  if (!schema) throw new WorkloadSchemaError(`${where} names ${env}, which its zod schema does not declare`);
  return schema;
}

/** The schema at `path` under `schema`'s properties, creating the nesting the path needs. */
function propertyAt(schema: JsonSchema, path: string[], create: boolean, where: string): JsonSchema {
  let node = schema;
  for (const key of path) {
    const properties = (node.properties ??= create ? {} : undefined) as
      Record<string, JsonSchema> | undefined;
    if (!properties?.[key] && !create) {
      throw new WorkloadSchemaError(`${where}: ${path.join('.')} is not in the hand-written schema`);
    }
    node = properties![key] ??= {};
  }
  return node;
}

/** Adds zod's keywords to a hand-written property; a keyword both set differently is a conflict. */
function mergeInto(target: JsonSchema, fromZod: JsonSchema, where: string): void {
  for (const [keyword, value] of Object.entries(fromZod)) {
    if (keyword in target && JSON.stringify(target[keyword]) !== JSON.stringify(value)) {
      throw new WorkloadSchemaError(
        `${where}: the hand-written schema says ${keyword} ${JSON.stringify(target[keyword])}, the zod schema ${JSON.stringify(value)}: leave ${keyword} to zod`,
      );
    }
  }
  Object.assign(target, ordered({ ...target, ...fromZod }));
}

/** The zod schema of an env value, '' allowed where the chart writes it for "unset". */
function envValueSchema(schemas: Map<string, JsonSchema>, value: EnvValue, where: string): JsonSchema {
  const schema = envSchema(schemas, value.env, where);
  return value.emptyMeansUnset ? { anyOf: [{ const: '' }, schema] } : schema;
}

/** The `config` section of one component: its env vars minus those the chart sets otherwise. */
function configSection(
  sources: SchemaSources,
  component: Component,
  schemas: Map<string, JsonSchema>,
): JsonSchema {
  const where = `services/${component}/src/config.ts`;
  const excluded = new Set(sources.notConfigKeys[component]);
  for (const name of excluded) envSchema(schemas, name, `the ${component}'s notConfigKeys`);
  const docs = sources.configDocs[component];
  const properties: Record<string, JsonSchema> = {};
  for (const [name, schema] of schemas) {
    if (excluded.has(name)) continue;
    const doc = docs[name];
    if (!doc) {
      throw new WorkloadSchemaError(
        `${where} declares ${name}, which the chart does not describe: add it to configDocs.${component} (or to notConfigKeys.${component} when the chart sets it from a value of its own)`,
      );
    }
    if (schema.default === undefined && !doc.examples?.length) {
      throw new WorkloadSchemaError(
        `configDocs.${component}.${name}: ${where} gives it no default, so the chart documents an example`,
      );
    }
    properties[name] = {
      ...ordered(schema, doc.description),
      ...(doc.examples ? { examples: doc.examples } : {}),
    };
  }
  for (const name of Object.keys(docs)) {
    if (!(name in properties)) {
      throw new WorkloadSchemaError(
        `configDocs.${component}.${name} describes a key ${where} does not declare (or notConfigKeys.${component} lists)`,
      );
    }
  }
  return {
    type: 'object',
    description: configDescription(component),
    additionalProperties: false,
    properties,
  };
}

/**
 * The workload chart's values schema: the hand-written base with the shared zod types merged in,
 * and per component (draft-07 if/then on `component`) its `config` keys and its env values.
 * @throws WorkloadSchemaError when the zod schemas and the hand-written part disagree.
 */
export function buildWorkloadValuesSchema(sources: SchemaSources = repositorySources): JsonSchema {
  const schema = structuredClone(sources.base);
  const shared = envSchemas(sources.shared, 'services/shared/src/config.ts');
  for (const value of sources.commonEnvValues) {
    const where = `commonEnvValues ${value.path.join('.')}`;
    mergeInto(propertyAt(schema, value.path, false, where), envValueSchema(shared, value, where), where);
  }
  const branches = COMPONENTS.map((component) => {
    const schemas = envSchemas(sources.components[component], `services/${component}/src/config.ts`);
    const then: JsonSchema = { properties: { config: configSection(sources, component, schemas) } };
    for (const value of sources.componentEnvValues[component]) {
      const where = `componentEnvValues.${component} ${value.path.join('.')}`;
      propertyAt(schema, value.path, false, where); // a value the chart has for every component
      Object.assign(propertyAt(then, value.path, true, where), envValueSchema(schemas, value, where));
    }
    return { if: { properties: { component: { const: component } }, required: ['component'] }, then };
  });
  return { ...schema, allOf: [...((schema.allOf as JsonSchema[] | undefined) ?? []), ...branches] };
}

/** The schema as committed: JSON formatted by the repository's prettier settings. */
export async function renderWorkloadValuesSchema(sources?: SchemaSources): Promise<string> {
  const options = (await resolveConfig(workloadValuesSchemaFile)) ?? {};
  return format(JSON.stringify(buildWorkloadValuesSchema(sources), null, 2), {
    ...options,
    filepath: workloadValuesSchemaFile,
  });
}
