/**
 * The shape of a JSON value, the common ground of the ProductPipeline's TypeScript types and its
 * CRD schema: each is reduced to this, and the two reductions are compared (shape-diff.ts).
 * Numbers are one kind: TypeScript has no integer.
 */
export type Shape =
  | { kind: 'string'; enum?: string[] }
  | { kind: 'number' }
  | { kind: 'boolean'; enum?: boolean[] }
  | { kind: 'array'; items: Shape }
  /** Free-form keys, one value shape: `Record<string, V>`, or `additionalProperties`. */
  | { kind: 'map'; values: Shape }
  | { kind: 'object'; fields: Record<string, Field> }
  /** Anything: `unknown` in TypeScript, `x-kubernetes-preserve-unknown-fields` in the CRD. */
  | { kind: 'unknown' };

export interface Field {
  shape: Shape;
  /** TypeScript: declared without `?`. CRD: listed in the parent's `required`. */
  required: boolean;
  /** TypeScript: `| null`. CRD: `nullable: true`. */
  nullable: boolean;
  /** CRD only: the schema's `default`, which the API server fills in whenever the parent is present. */
  default?: unknown;
}

/** The shape a path leads to (`spec.topics[].name`; `[]` an array's items, `*` a map's values). */
export function shapeAt(root: Shape, path: string): Shape | undefined {
  let shape: Shape | undefined = root;
  for (const step of path.split(/\.|(?=\[\])/).filter(Boolean)) {
    if (!shape) return undefined;
    if (step === '[]') shape = shape.kind === 'array' ? shape.items : undefined;
    else if (step === '*') shape = shape.kind === 'map' ? shape.values : undefined;
    else shape = shape.kind === 'object' ? shape.fields[step]?.shape : undefined;
  }
  return shape;
}
