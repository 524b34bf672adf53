import ts from 'typescript';
import type { Field, Shape } from './shape.js';

/**
 * The shape of the interface or type alias `name` declared in `file`, read with the TypeScript
 * compiler's type checker, so aliases, nested interfaces and `Record<>` resolve as tsc sees them.
 * Types with no JSON equivalent (a union of a string and a number, a class) throw, naming the
 * path: the comparison would otherwise have to guess.
 */
export function shapeOfDeclaration(file: string, name: string): Shape {
  // strict for strictNullChecks: without it `| null` and the `undefined` of `?` vanish from types.
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    types: [],
    lib: ['lib.es2023.d.ts'],
  });
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`${file}: not found`);
  const declaration = source.statements.find(
    (s): s is ts.InterfaceDeclaration | ts.TypeAliasDeclaration =>
      (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) && s.name.text === name,
  );
  if (!declaration) throw new Error(`${file}: no interface or type ${name}`);
  const checker = program.getTypeChecker();
  return new ShapeReader(checker).shape(checker.getTypeAtLocation(declaration.name), name);
}

class ShapeReader {
  constructor(private readonly checker: ts.TypeChecker) {}

  shape(type: ts.Type, path: string): Shape {
    return this.field(type, true, path).shape;
  }

  private field(type: ts.Type, required: boolean, path: string): Field {
    const members = type.isUnion() ? type.types : [type];
    const nullable = members.some((t) => t.flags & ts.TypeFlags.Null);
    const values = members.filter((t) => !(t.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)));
    return { shape: this.union(values, path), required, nullable };
  }

  /** One shape for the members of a union (null and undefined already taken out). */
  private union(types: ts.Type[], path: string): Shape {
    const { checker } = this;
    if (!types.length) throw new Error(`${path}: only null or undefined`);
    if (types.some((t) => t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown))) return { kind: 'unknown' };
    if (types.every((t) => t.flags & ts.TypeFlags.StringLike)) {
      const literals = types.filter((t) => t.isStringLiteral()).map((t) => t.value);
      return literals.length === types.length ? { kind: 'string', enum: literals } : { kind: 'string' };
    }
    if (types.every((t) => t.flags & ts.TypeFlags.NumberLike)) return { kind: 'number' };
    if (types.every((t) => t.flags & ts.TypeFlags.BooleanLike)) {
      const literals = types.map((t) => checker.typeToString(t) === 'true');
      // `boolean` is the union true | false: an enum only when one of them is left out.
      return new Set(literals).size === 2 ? { kind: 'boolean' } : { kind: 'boolean', enum: literals };
    }
    if (types.length === 1) return this.object(types[0]!, path);
    if (types.every((t) => t.flags & ts.TypeFlags.Object && !checker.isArrayType(t)))
      return this.variants(types, path);
    throw new Error(`${path}: ${types.map((t) => checker.typeToString(t)).join(' | ')} has no JSON schema`);
  }

  private object(type: ts.Type, path: string): Shape {
    const { checker } = this;
    if (!(type.flags & ts.TypeFlags.Object))
      throw new Error(`${path}: ${checker.typeToString(type)} has no JSON schema`);
    // JSON.stringify sends a Date as its ISO string (its toJSON), and the API server's times are strings.
    if (type.getSymbol()?.name === 'Date') return { kind: 'string' };
    if (checker.isArrayType(type)) {
      const [items] = checker.getTypeArguments(type as ts.TypeReference);
      return { kind: 'array', items: this.shape(items!, `${path}[]`) };
    }
    const properties = checker.getPropertiesOfType(type);
    const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
    if (index && !properties.length) return { kind: 'map', values: this.shape(index.type, `${path}.*`) };
    if (index) throw new Error(`${path}: properties and an index signature at once have no JSON schema`);
    const fields: Record<string, Field> = {};
    for (const property of properties) {
      const optional = (property.flags & ts.SymbolFlags.Optional) !== 0;
      fields[property.name] = this.field(
        checker.getTypeOfSymbol(property),
        !optional,
        `${path}.${property.name}`,
      );
    }
    return { kind: 'object', fields };
  }

  /**
   * A union of object types (`{ earliest: true } | { offset: number }`) is, in JSON, one object with
   * the properties of all of them; one is required only when every variant requires it (the CRD
   * picks the variant with a CEL rule, which this comparison does not read).
   */
  private variants(types: readonly ts.Type[], path: string): Shape {
    const shapes = types.map((t) => this.object(t, path));
    const fields: Record<string, Field> = {};
    for (const shape of shapes) {
      if (shape.kind !== 'object') throw new Error(`${path}: a union of object and non-object types`);
      for (const [name, field] of Object.entries(shape.fields)) {
        const seen = fields[name];
        if (seen && JSON.stringify(seen.shape) !== JSON.stringify(field.shape))
          throw new Error(`${path}.${name}: differently shaped in two variants of the union`);
        fields[name] = { ...field, required: field.required && (seen?.required ?? true) };
      }
    }
    for (const [name, field] of Object.entries(fields))
      if (!shapes.every((s) => s.kind === 'object' && name in s.fields)) field.required = false;
    return { kind: 'object', fields };
  }
}
