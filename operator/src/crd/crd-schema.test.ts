/**
 * The ProductPipeline has two descriptions that must not drift: its TypeScript types
 * (controllers/pipeline-types.ts), which the operator reads and writes, and the CRD's OpenAPI
 * schema (charts/operator/crds/), which users see and the API server enforces. A status field the
 * CRD does not declare is pruned by the API server on every write; a spec field it does not
 * declare never reaches the operator. So they are compared field by field (crd/shape-diff.ts for
 * the rules, including the one for `required` and CRD defaults).
 */
import { fileURLToPath } from 'node:url';
import { DEFAULT_RESET_TIMEOUT_SECONDS } from '../controllers/offset-reset-controller.js';
import type { ProductPipeline } from '../controllers/pipeline-types.js';
import { scalingPolicy } from '../controllers/relay-scaling.js';
import { desiredTopics } from '../controllers/topic-controller.js';
import { readCrdVersion, shapeOfSchema } from './crd-shape.js';
import type { CrdVersion, JsonSchema } from './crd-shape.js';
import { compareShapes } from './shape-diff.js';
import type { Allowances } from './shape-diff.js';
import { shapeAt } from './shape.js';
import type { Shape } from './shape.js';
import { shapeOfDeclaration } from './ts-shape.js';

const TYPES_FILE = fileURLToPath(new URL('../controllers/pipeline-types.ts', import.meta.url));
const CRD_FILE = fileURLToPath(
  new URL('../../../charts/operator/crds/productpipelines.shopstream.io.yaml', import.meta.url),
);

const MERGE_PATCH_NULL =
  'null is how the status merge patch removes it; it is never stored (a JSON merge patch drops ' +
  'nulls, and the API server prunes a null of a field that is not nullable)';

/** The deliberate differences; anything else is drift. */
const ALLOWED: Allowances = {
  onlyInTypes: {
    apiVersion: 'the API server’s own: a CRD schema does not describe it',
    kind: 'the API server’s own: a CRD schema does not describe it',
    metadata: 'ObjectMeta: the API server’s schema, not the CRD’s',
  },
  onlyInCrd: {},
  nullOnlyInTypes: {
    'status.relay': MERGE_PATCH_NULL,
    'status.consumers[].resetInProgress': MERGE_PATCH_NULL,
  },
};

let version: CrdVersion;
let crd: Shape;
let types: Shape;

beforeAll(async () => {
  version = await readCrdVersion(CRD_FILE, 'v1alpha1');
  crd = shapeOfSchema(version.schema.openAPIV3Schema);
  types = shapeOfDeclaration(TYPES_FILE, 'ProductPipeline');
}, 60_000);

const pathsOf = (drifts: string[]) => drifts.map((d) => d.slice(0, d.indexOf(':'))).sort();

describe('the ProductPipeline CRD schema and pipeline-types.ts', () => {
  it('agree on every field: presence, kind, enum, required and nullable', () => {
    const { drifts, compared } = compareShapes(types, crd, ALLOWED);
    expect(drifts).toEqual([]);
    // A reader that lost its way would compare nothing and find nothing: the deepest paths are there.
    expect(compared).toEqual(
      expect.arrayContaining([
        'spec.topics[].config',
        'spec.consumers[].offsetReset.to.offsets[].partition',
        'status.conditions[].status',
        'status.consumers[].resetHistory[].partitionsWritten[].oldOffset',
      ]),
    );
  });

  it('names the path of each drift', () => {
    const schema = structuredClone(version.schema.openAPIV3Schema);
    const at = (s: JsonSchema, ...path: string[]): JsonSchema =>
      path.reduce((p, name) => (name === '[]' ? p.items! : p.properties![name]!), s);
    const relay = at(schema, 'status', 'relay');
    relay.properties!.blockedEvent = relay.properties!.blockedEvents!;
    delete relay.properties!.blockedEvents;
    at(schema, 'spec', 'topics', '[]', 'deletionPolicy').enum = ['Retain', 'Destroy'];
    at(schema, 'spec', 'topics', '[]').required = ['name'];
    at(schema, 'status', 'consumers', '[]', 'lag').type = 'string';

    const { drifts } = compareShapes(types, shapeOfSchema(schema), ALLOWED);
    expect(pathsOf(drifts)).toEqual([
      'spec.topics[].deletionPolicy',
      'spec.topics[].partitions',
      'status.consumers[].lag',
      'status.relay.blockedEvent',
      'status.relay.blockedEvents',
    ]);
  });

  it('reports an allowance that is no longer needed', () => {
    const stale = { ...ALLOWED, onlyInCrd: { 'spec.kafka.tls': 'not read yet' } };
    expect(compareShapes(types, crd, stale).drifts).toEqual([
      'spec.kafka.tls: listed in onlyInCrd but not needed there any more',
    ]);
  });
});

/** The CRD's `default`s of the object at `path`, by property. */
function crdDefaults(path: string): Record<string, unknown> {
  const shape = shapeAt(crd, path);
  if (shape?.kind !== 'object') throw new Error(`${path}: not an object in the CRD`);
  return Object.fromEntries(
    Object.entries(shape.fields)
      .filter(([, field]) => 'default' in field)
      .map(([name, field]) => [name, field.default]),
  );
}

describe("the operator's fallbacks for unset fields", () => {
  // The API server applies the CRD's defaults, but the code keeps its own for objects built
  // without it (tests, and an object stored before a default existed): the two must be the same.
  it('are the CRD defaults of spec.relay.scaling', () => {
    expect(scalingPolicy()).toEqual(crdDefaults('spec.relay.scaling'));
  });

  it('are the CRD defaults of spec.topics[]', () => {
    const pipeline: ProductPipeline = {
      apiVersion: 'shopstream.io/v1alpha1',
      kind: 'ProductPipeline',
      metadata: { name: 'p', namespace: 'n' },
      spec: { kafka: { bootstrapServers: 'kafka:9092' }, topics: [{ name: 't', partitions: 1 }] },
    };
    expect(desiredTopics(pipeline)[0]).toMatchObject(crdDefaults('spec.topics[]'));
  });

  it('is the CRD default of offsetReset.timeoutSeconds', () => {
    expect(crdDefaults('spec.consumers[].offsetReset').timeoutSeconds).toBe(DEFAULT_RESET_TIMEOUT_SECONDS);
  });
});

describe('kubectl printer columns', () => {
  const kindOfColumn: Record<string, Shape['kind']> = {
    integer: 'number',
    number: 'number',
    string: 'string',
    boolean: 'boolean',
    date: 'string',
  };

  it('point at fields both descriptions have, of the column’s type', () => {
    const columns = (version.additionalPrinterColumns ?? []).filter(
      (c) => !c.jsonPath.startsWith('.metadata.'), // ObjectMeta: not in either description
    );
    expect(columns.length).toBeGreaterThan(0);
    for (const column of columns) {
      // `[*]`, `[0]` and `[?(@.type=="Ready")]` all step into an array's items.
      const path = column.jsonPath.replace(/\[[^\]]*\]/g, '[]').replace(/^\./, '');
      const expected = { column: column.name, path, kind: kindOfColumn[column.type] };
      expect({ ...expected, kind: shapeAt(crd, path)?.kind }).toEqual(expected);
      expect({ ...expected, kind: shapeAt(types, path)?.kind }).toEqual(expected);
    }
  });
});
