import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  WorkloadSchemaError,
  buildWorkloadValuesSchema,
  renderWorkloadValuesSchema,
  repositorySources,
  workloadValuesSchemaFile,
} from './workload-values-schema.js';
import type { SchemaSources } from './workload-values-schema.js';
import type { Component, JsonSchema } from './workload-schema-base.js';

/** The `then` of the component's if/then branch. */
function branch(schema: JsonSchema, component: Component): JsonSchema {
  const found = (schema.allOf as { if: JsonSchema; then: JsonSchema }[]).find((b) =>
    JSON.stringify(b.if).includes(`"const":"${component}"`),
  );
  if (!found) throw new Error(`no branch for ${component}`);
  return found.then;
}

const configKeys = (schema: JsonSchema, component: Component): Record<string, JsonSchema> =>
  (branch(schema, component).properties as { config: { properties: Record<string, JsonSchema> } }).config
    .properties;

/** The repository's sources with the relay's zod schema replaced. */
const withRelaySchema = (relay: z.ZodType, more: Partial<SchemaSources> = {}): SchemaSources => ({
  ...repositorySources,
  components: { ...repositorySources.components, relay },
  ...more,
});
/** The relay's env vars without its refinements (zod refuses to extend a refined object). */
const relayShape = (repositorySources.components.relay as z.ZodObject).shape;

describe('the workload chart values schema', () => {
  it('is committed as `npm run charts:schema` writes it', async () => {
    const committed = readFileSync(workloadValuesSchemaFile, 'utf8');
    const generated = await renderWorkloadValuesSchema();
    // On failure: run `npm run charts:schema` and commit charts/workload/values.schema.json.
    expect({ upToDate: committed === generated }).toEqual({ upToDate: true });
  });

  it("takes each config key's type, bounds and default from the component's zod schema", () => {
    const changed = z.object({
      ...relayShape,
      RELAY_BATCH_SIZE: z.coerce.number().int().min(5).max(50).default(7),
    });
    const key = configKeys(buildWorkloadValuesSchema(withRelaySchema(changed)), 'relay').RELAY_BATCH_SIZE;
    expect(key).toEqual({
      type: 'integer',
      description: 'Outbox rows claimed and published per batch.',
      default: 7,
      minimum: 5,
      maximum: 50,
    });
  });

  it('types the values that are one env var each from zod: shared ones for all, the port per component', () => {
    const schema = buildWorkloadValuesSchema();
    const properties = schema.properties as Record<
      string,
      JsonSchema & { properties?: Record<string, JsonSchema> }
    >;
    expect(properties.logLevel!.enum).toEqual(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
    expect(properties.kafka!.properties!.brokers!.minLength).toBe(1);
    const port = (c: Component) =>
      (branch(schema, c).properties as { service: { properties: { port: JsonSchema } } }).service.properties
        .port;
    expect([port('api').default, port('relay').default, port('consumer').default]).toEqual([
      8080, 9464, 9465,
    ]);
    // The chart's own floor stays next to zod's bounds: the container cannot bind below 1024.
    expect(properties.service!.properties!.port!.minimum).toBe(1024);
  });

  it('leaves out of config what the chart sets from values of its own, or leaves to the process', () => {
    const schema = buildWorkloadValuesSchema();
    for (const component of ['api', 'relay', 'consumer'] as const) {
      const keys = Object.keys(configKeys(schema, component));
      expect({
        component,
        managed: keys.filter((k) => /^(KAFKA_(BROKERS|SSL|SASL)|DATABASE_URL|LOG_LEVEL)/.test(k)),
      }).toEqual({ component, managed: [] });
    }
    for (const key of ['PORT', 'HOST', 'JWT_SECRET', 'JWT_ISSUER', 'ADMIN_TOKEN'])
      expect(Object.keys(configKeys(schema, 'api'))).not.toContain(key);
    expect(Object.keys(configKeys(schema, 'relay'))).not.toContain('RELAY_ID');
    expect(Object.keys(configKeys(schema, 'consumer'))).toContain('CONSUMER_INBOX_PURGE_BATCH');
  });

  it('refuses a zod key the chart does not describe, naming where to add it', () => {
    const changed = z.object({ ...relayShape, RELAY_SOMETHING_NEW: z.coerce.number().int().default(1) });
    expect(() => buildWorkloadValuesSchema(withRelaySchema(changed))).toThrow(WorkloadSchemaError);
    expect(() => buildWorkloadValuesSchema(withRelaySchema(changed))).toThrow(
      /services\/relay\/src\/config\.ts declares RELAY_SOMETHING_NEW, which the chart does not describe: add it to configDocs\.relay/,
    );
  });

  it('refuses a description of a key zod no longer declares', () => {
    const { RELAY_CIRCUIT_MAX_MS: _gone, ...rest } = relayShape;
    const changed = z.object(rest);
    expect(() => buildWorkloadValuesSchema(withRelaySchema(changed))).toThrow(
      /configDocs\.relay\.RELAY_CIRCUIT_MAX_MS describes a key services\/relay\/src\/config\.ts does not declare/,
    );
  });

  it('refuses a config key with neither a zod default nor a documented example', () => {
    const changed = z.object({ ...relayShape, RELAY_BATCH_SIZE: z.coerce.number().int().min(1).optional() });
    expect(() => buildWorkloadValuesSchema(withRelaySchema(changed))).toThrow(
      /configDocs\.relay\.RELAY_BATCH_SIZE: .* gives it no default, so the chart documents an example/,
    );
  });

  it('refuses a hand-written keyword that contradicts zod', () => {
    const base = structuredClone(repositorySources.base);
    (base.properties as Record<string, JsonSchema>).logLevel = { description: 'x', enum: ['info', 'debug'] };
    expect(() => buildWorkloadValuesSchema({ ...repositorySources, base })).toThrow(
      /commonEnvValues logLevel: the hand-written schema says enum \["info","debug"\], the zod schema .*: leave enum to zod/,
    );
  });
});
