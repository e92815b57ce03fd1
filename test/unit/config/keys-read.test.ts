// Every documented key does something (issue 11 item 8, DESIGN.md invariant 8): every key path of
// the config schema (zod 4, walked through its object shapes, arrays and records by their element)
// must be read somewhere in src/ outside src/config/. "Read" is decided by the TypeScript checker,
// not by a text search, so a key named `enabled` is not satisfied by some other `.enabled`: a read
// is a property access (`x.name`, `x?.name`), an element access with a literal (`x['name']`) or a
// destructuring binding (`const { name } = x`) whose property symbol is declared by that key in
// src/config/schema.ts. A schema object passed whole to a module (an argument, a property of an
// options object, a spread `{ ...config.upstream }`, a return value) counts through the module's
// own type: its same-named properties stand for the schema's, and a read of those is a read of the
// key. A key that is only declared, or only validated inside src/config/, fails and is printed.
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/config/index.js';
import { configSchema } from '../../../src/config/schema.js';

const SCHEMA_FILE = path.join(packageRoot, 'src', 'config', 'schema.ts');
const CONFIG_DIR = path.join(packageRoot, 'src', 'config') + path.sep;
const SRC_DIR = path.join(packageRoot, 'src') + path.sep;

// ---- the key paths, from the runtime schema ----------------------------------------------------

interface ZodLike {
  _zod: { def: { type: string; innerType?: ZodLike; in?: ZodLike; shape?: Record<string, ZodLike>; element?: ZodLike; valueType?: ZodLike; options?: ZodLike[] } };
}

/** `proxy.port`, `services.*.urls[].weight`, `policy[].match.clients`: objects by key, arrays by `[]`, records by `*`. */
function schemaKeyPaths(schema: ZodLike, at = '', out = new Set<string>()): Set<string> {
  const def = schema._zod.def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return schemaKeyPaths(def.innerType!, at, out);
    case 'pipe':
      return schemaKeyPaths(def.in!, at, out);
    case 'object':
      for (const [key, value] of Object.entries(def.shape!)) {
        const p = at === '' ? key : `${at}.${key}`;
        out.add(p);
        schemaKeyPaths(value, p, out);
      }
      return out;
    case 'array':
      return schemaKeyPaths(def.element!, `${at}[]`, out);
    case 'record':
      return schemaKeyPaths(def.valueType!, `${at}.*`, out);
    case 'union':
      for (const option of def.options!) schemaKeyPaths(option, at, out);
      return out;
    default:
      return out;
  }
}

// ---- the same paths in the `Config` type, each with the declaration of its key ------------------

function program(): ts.Program {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(packageRoot, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!parsed) throw new Error('tsconfig.json could not be read');
  return ts.createProgram(
    parsed.fileNames.filter((f) => path.resolve(f).startsWith(SRC_DIR)),
    parsed.options,
  );
}

function isSchemaDeclaration(decl: ts.Declaration): boolean {
  return path.resolve(decl.getSourceFile().fileName) === SCHEMA_FILE;
}

function elementOrIndexType(checker: ts.TypeChecker, type: ts.Type): { type: ts.Type; suffix: string } | undefined {
  if (checker.isArrayType(type)) return { type: checker.getTypeArguments(type as ts.TypeReference)[0]!, suffix: '[]' };
  const index = checker.getIndexTypeOfType(type, ts.IndexKind.String);
  if (index && type.getProperties().length === 0) return { type: index, suffix: '.*' };
  return undefined;
}

/** Key path → declarations of that key in schema.ts, walking `Config` the way schemaKeyPaths walks the schema. */
function typeKeyPaths(checker: ts.TypeChecker, schemaFile: ts.SourceFile): Map<string, Set<ts.Declaration>> {
  const moduleSymbol = checker.getSymbolAtLocation(schemaFile)!;
  const configSymbol = checker.getExportsOfModule(moduleSymbol).find((s) => s.name === 'Config')!;
  const out = new Map<string, Set<ts.Declaration>>();
  const walk = (type: ts.Type, at: string, depth: number) => {
    if (depth > 12) return;
    for (const member of type.isUnion() ? type.types : [type]) {
      const t = checker.getNonNullableType(member);
      const inner = elementOrIndexType(checker, t);
      if (inner) {
        walk(inner.type, `${at}${inner.suffix}`, depth + 1);
        continue;
      }
      for (const prop of t.getProperties()) {
        const decls = (prop.declarations ?? []).filter(isSchemaDeclaration);
        if (decls.length === 0) continue; // a method of string or array, not a key
        const p = at === '' ? prop.name : `${at}.${prop.name}`;
        const set = out.get(p) ?? new Set();
        for (const d of decls) set.add(d);
        out.set(p, set);
        walk(checker.getTypeOfSymbol(prop), p, depth + 1);
      }
    }
  };
  walk(checker.getDeclaredTypeOfSymbol(configSymbol), '', 0);
  return out;
}

// ---- what src/ outside src/config/ reads ---------------------------------------------------------

function inSrc(decl: ts.Declaration): boolean {
  return path.resolve(decl.getSourceFile().fileName).startsWith(SRC_DIR);
}

function typeId(type: ts.Type): number {
  return (type as unknown as { id: number }).id;
}

/** Schema declarations whose key is read, directly or through the module types it was passed as. */
function reads(checker: ts.TypeChecker, files: readonly ts.SourceFile[]): Set<ts.Declaration> {
  const read = new Set<ts.Declaration>();
  // declaration of a property of a module's type → the declarations of the values that flowed into it
  const fedBy = new Map<ts.Declaration, Set<ts.Declaration>>();
  const markRead = (symbol: ts.Symbol | undefined) => {
    for (const d of symbol?.declarations ?? []) read.add(d);
  };
  const propertyOf = (type: ts.Type, name: string): ts.Symbol | undefined => {
    const t = checker.getNonNullableType(type);
    return t.getProperty(name) ?? (t.isUnion() ? t.types.map((m) => m.getProperty(name)).find((x) => x !== undefined) : undefined);
  };
  // A value given where another type is expected (an argument, an options property, a spread, a
  // return): each property of the expected type stands for the same-named property of the value,
  // recursively through nested objects, arrays, records and unions.
  const seen = new Set<string>();
  const flow = (source: ts.Type, target: ts.Type, depth: number) => {
    if (depth > 8) return;
    const s = checker.getNonNullableType(source);
    const targets = checker.getNonNullableType(target);
    for (const t of targets.isUnion() ? targets.types : [targets]) {
      const key = `${typeId(s)}>${typeId(t)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const se = elementOrIndexType(checker, s);
      const te = elementOrIndexType(checker, t);
      if (se && te) {
        flow(se.type, te.type, depth + 1);
        continue;
      }
      for (const prop of s.getProperties()) {
        const from = (prop.declarations ?? []).filter(inSrc);
        if (from.length === 0) continue;
        const to = t.getProperty(prop.name);
        if (!to) continue;
        for (const d of (to.declarations ?? []).filter(inSrc)) {
          const set = fedBy.get(d) ?? new Set();
          for (const f of from) if (f !== d) set.add(f);
          fedBy.set(d, set);
        }
        flow(checker.getTypeOfSymbol(prop), checker.getTypeOfSymbol(to), depth + 1);
      }
    }
  };

  for (const sf of files) {
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node)) markRead(checker.getSymbolAtLocation(node.name));
      else if (ts.isElementAccessExpression(node)) {
        // x['name'], and x[k] with k of a literal union type (failModes[cls]: each class it can be)
        const keyType = checker.getTypeAtLocation(node.argumentExpression);
        const names = ts.isStringLiteralLike(node.argumentExpression)
          ? [node.argumentExpression.text]
          : (keyType.isUnion() ? keyType.types : [keyType]).filter((k) => k.isStringLiteral()).map((k) => (k as ts.StringLiteralType).value);
        for (const name of names) markRead(propertyOf(checker.getTypeAtLocation(node.expression), name));
      } else if (ts.isBindingElement(node) && ts.isObjectBindingPattern(node.parent) && !node.dotDotDotToken) {
        const name = node.propertyName ?? node.name;
        if (ts.isIdentifier(name) || ts.isStringLiteralLike(name)) markRead(propertyOf(checker.getTypeAtLocation(node.parent), name.text));
      } else if (ts.isSpreadAssignment(node)) {
        const target = checker.getContextualType(node.parent);
        if (target) flow(checker.getTypeAtLocation(node.expression), target, 0);
      }
      if (ts.isExpression(node) && !ts.isObjectLiteralExpression(node) && !ts.isLiteralExpression(node)) {
        const target = checker.getContextualType(node);
        if (target) flow(checker.getTypeAtLocation(node), target, 0);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }

  const schemaRead = new Set<ts.Declaration>();
  const queue = [...read];
  const done = new Set<ts.Declaration>();
  while (queue.length > 0) {
    const d = queue.pop()!;
    if (done.has(d)) continue;
    done.add(d);
    if (isSchemaDeclaration(d)) schemaRead.add(d);
    for (const next of fedBy.get(d) ?? []) queue.push(next);
  }
  return schemaRead;
}

describe('every config key is read outside src/config/', () => {
  it('walks the same key paths in the schema and in the Config type', { timeout: 180_000 }, () => {
    const zodPaths = schemaKeyPaths(configSchema as unknown as ZodLike);
    const p = program();
    const checker = p.getTypeChecker();
    const typePaths = typeKeyPaths(checker, p.getSourceFile(SCHEMA_FILE)!);
    // The checker must see every key the schema has (or the test below would skip it).
    expect([...zodPaths].filter((k) => !typePaths.has(k))).toEqual([]);
    expect([...typePaths.keys()].filter((k) => !zodPaths.has(k))).toEqual([]);
    expect(zodPaths.size).toBeGreaterThan(150);

    const files = p.getSourceFiles().filter((sf) => {
      const file = path.resolve(sf.fileName);
      return file.startsWith(SRC_DIR) && !file.startsWith(CONFIG_DIR);
    });
    const read = reads(checker, files);
    const isRead = (key: string): boolean =>
      [...typePaths.get(key)!].some((d) => read.has(d)) ||
      // an object key is read when one of its own keys is (config.proxy.port reads proxy)
      [...zodPaths].some((k) => (k.startsWith(`${key}.`) || k.startsWith(`${key}[]`)) && [...typePaths.get(k)!].some((d) => read.has(d)));
    const unread = [...zodPaths].filter((k) => !isRead(k)).sort();
    if (unread.length > 0) console.error(`config keys read nowhere in src/ outside src/config/:\n  ${unread.join('\n  ')}`);
    expect(unread).toEqual([]);
  });
});
