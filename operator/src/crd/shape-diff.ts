import type { Field, Shape } from './shape.js';

/**
 * What may deliberately differ, path → why. Every entry must still be needed: one that matches
 * nothing is reported too, so the lists cannot rot into blanket exemptions.
 */
export interface Allowances {
  /** Members only in the TypeScript types (never sent to, or kept by, the API server). */
  onlyInTypes: Record<string, string>;
  /** Properties only in the CRD schema (the operator neither reads nor writes them). */
  onlyInCrd: Record<string, string>;
  /** `| null` in TypeScript without `nullable: true` in the CRD (a null that is never stored). */
  nullOnlyInTypes: Record<string, string>;
}

export interface ShapeComparison {
  /** One line per difference, each starting with its path. */
  drifts: string[];
  /** Every path found on both sides. */
  compared: string[];
}

const TS = 'pipeline-types.ts';

/**
 * Compares the TypeScript shape with the CRD's, property by property:
 * - every property is on both sides (or allowed on one);
 * - the same kind (string, number = integer or number, boolean, array, map, object);
 * - a string-literal union is exactly the CRD's `enum` (and a plain string has no `enum`);
 * - `required`: a member the CRD requires is not optional in TypeScript; a member TypeScript
 *   requires is required by the CRD or has a CRD `default` — the API server fills defaults in on
 *   every read (and on writes), so the operator can rely on a defaulted field being there;
 * - `| null` in TypeScript is `nullable: true` in the CRD and back (or allowed).
 */
export function compareShapes(types: Shape, crd: Shape, allow: Allowances): ShapeComparison {
  const drifts: string[] = [];
  const compared: string[] = [];
  const used = new Set<string>();
  const allowed = (list: Record<string, string>, path: string) => {
    if (!(path in list)) return false;
    used.add(path);
    return true;
  };

  const field = (t: Field, c: Field, path: string) => {
    compared.push(path);
    if (c.required && !t.required) drifts.push(`${path}: required by the CRD but optional (?) in ${TS}`);
    if (t.required && !c.required && !('default' in c))
      drifts.push(`${path}: required in ${TS} but neither required nor defaulted by the CRD`);
    if (t.nullable && !c.nullable && !allowed(allow.nullOnlyInTypes, path))
      drifts.push(`${path}: \`| null\` in ${TS} but not nullable in the CRD`);
    if (c.nullable && !t.nullable) drifts.push(`${path}: nullable in the CRD but not \`| null\` in ${TS}`);
    shape(t.shape, c.shape, path);
  };

  const shape = (t: Shape, c: Shape, path: string) => {
    if (t.kind !== c.kind) {
      drifts.push(`${path}: ${t.kind} in ${TS}, ${c.kind} in the CRD`);
      return;
    }
    if ((t.kind === 'string' || t.kind === 'boolean') && (c.kind === 'string' || c.kind === 'boolean')) {
      const te = t.enum ? JSON.stringify([...t.enum].sort()) : 'none';
      const ce = c.enum ? JSON.stringify([...c.enum].sort()) : 'none';
      if (te !== ce) drifts.push(`${path}: enum ${te} in ${TS}, ${ce} in the CRD`);
    } else if (t.kind === 'array' && c.kind === 'array') shape(t.items, c.items, `${path}[]`);
    else if (t.kind === 'map' && c.kind === 'map') shape(t.values, c.values, `${path}.*`);
    else if (t.kind === 'object' && c.kind === 'object') {
      for (const name of new Set([...Object.keys(t.fields), ...Object.keys(c.fields)])) {
        const at = path ? `${path}.${name}` : name;
        const [tf, cf] = [t.fields[name], c.fields[name]];
        if (tf && cf) field(tf, cf, at);
        else if (tf && !allowed(allow.onlyInTypes, at))
          drifts.push(`${at}: in ${TS} but not in the CRD schema (the API server prunes it)`);
        else if (cf && !allowed(allow.onlyInCrd, at))
          drifts.push(`${at}: in the CRD schema but not in ${TS}`);
      }
    }
  };

  shape(types, crd, '');
  for (const [name, list] of Object.entries(allow))
    for (const path of Object.keys(list as Record<string, string>))
      if (!used.has(path)) drifts.push(`${path}: listed in ${name} but not needed there any more`);
  return { drifts, compared };
}
