/**
 * What `method()` and `notification()` attach to a handler or listener:
 * schemas, a description and a kind. The router reads it once, when the
 * function is registered, so a call costs nothing for it; `describe` reads
 * it to tell callers what a server offers.
 *
 * @module
 */

import type { StandardSchemaV1, StandardTypedV1 } from "@standard-schema/spec";
import { UsageError } from "../base/errors.ts";

/**
 * How a method exchanges data: one result (`"unary"`), items and a result
 * (`"server-stream"`), items from the caller (`"client-stream"`), or items
 * both ways (`"bidirectional"`).
 */
export type MethodKind = "unary" | "server-stream" | "client-stream" | "bidirectional";

/** The method kinds, in the order of {@link MethodKind}. */
export const METHOD_KINDS: readonly MethodKind[] = Object.freeze([
  "unary",
  "server-stream",
  "client-stream",
  "bidirectional",
]);

/** A JSON Schema document (an object of JSON values). */
export type JsonSchema = { [key: string]: unknown };

/** JSON Schemas given by hand, for schemas that offer none themselves (or for functions without schemas). */
export interface DeclaredJsonSchemas {
  /** The parameters' schema. */
  params?: JsonSchema;
  /** The result's schema. */
  result?: JsonSchema;
  /** The schema of each streamed item. */
  items?: JsonSchema;
}

/** What was declared for one handler or listener, as the router keeps it. */
export interface Declaration {
  /** The function to run (the one given to `method()`, not the wrapper it returned). */
  // deno-lint-ignore no-explicit-any
  readonly target: (params: any, context: any) => unknown;
  /** Checked before the target runs; its output is what the target receives. */
  readonly params: StandardSchemaV1 | undefined;
  /** Describes the result (not checked). */
  readonly result: StandardTypedV1 | undefined;
  /** Describes each streamed item (not checked). */
  readonly items: StandardTypedV1 | undefined;
  /** One line for people. */
  readonly description: string | undefined;
  /** The declared kind, if any. */
  readonly kind: MethodKind | undefined;
  /** JSON Schemas given by hand; they win over the schemas' own. */
  readonly jsonSchema: DeclaredJsonSchemas | undefined;
}

/** The declarations of the functions `method()` and `notification()` returned, by function. */
const declarations = new WeakMap<object, Declaration>();

/**
 * The declaration attached to a function, if `method()` or
 * `notification()` made it.
 *
 * @param fn A handler or listener.
 * @returns Its declaration, or `undefined` for a plain function.
 */
export function declarationOf(fn: unknown): Declaration | undefined {
  return typeof fn === "function" ? declarations.get(fn) : undefined;
}

/** The keys a declaration may have, and what each accepts. */
const SPEC_KEYS: Readonly<Record<string, string>> = {
  params: "a Standard Schema (an object with ~standard.validate)",
  result: "a Standard Schema (an object with ~standard)",
  items: "a Standard Schema (an object with ~standard)",
  description: "one line of text",
  kind: `one of ${METHOD_KINDS.map((kind) => `"${kind}"`).join(", ")}`,
  jsonSchema: "an object whose params, result and items are objects",
};

/**
 * Checks what a caller of `method()` or `notification()` declared, and
 * returns a function that runs `target`, carrying the declaration.
 *
 * @param what `method()` or `notification()`, for messages.
 * @param spec What was declared.
 * @param target The handler or listener.
 * @param keys The keys `spec` may have.
 * @returns A function that calls `target` with its arguments.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` for a key it does not know, or a value of the wrong kind.
 */
// deno-lint-ignore no-explicit-any
export function declare<F extends (params: any, context: any) => unknown>(
  what: string,
  spec: object,
  target: F,
  keys: readonly string[],
): F {
  if (typeof target !== "function") refuse(what, "the handler", "a function", target);
  if (spec === null || typeof spec !== "object") refuse(what, "the declaration", "an object", spec);
  const given = spec as Record<string, unknown>;
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined && !keys.includes(key)) {
      throw new UsageError("ERR_INVALID_ARGUMENT", `${what} takes ${keys.join(", ")}; found "${key}"`);
    }
  }
  const params = schemaOf(what, "params", given.params, true) as StandardSchemaV1 | undefined;
  const description = given.description;
  if (description !== undefined && (typeof description !== "string" || /[\r\n]/.test(description))) {
    refuse(what, "description", SPEC_KEYS.description!, description);
  }
  const kind = given.kind;
  if (kind !== undefined && !METHOD_KINDS.includes(kind as MethodKind)) refuse(what, "kind", SPEC_KEYS.kind!, kind);
  const declaration: Declaration = {
    target,
    params,
    result: schemaOf(what, "result", given.result, false),
    items: schemaOf(what, "items", given.items, false),
    description: description as string | undefined,
    kind: kind as MethodKind | undefined,
    jsonSchema: jsonSchemasOf(what, given.jsonSchema),
  };
  // A wrapper of its own, so that one function can be declared twice; the router runs `target` itself.
  const declared = function (this: unknown, params: unknown, context: unknown): unknown {
    return target.call(this, params, context);
  } as F;
  declarations.set(declared, declaration);
  return declared;
}

function schemaOf(what: string, key: string, value: unknown, validates: boolean): StandardTypedV1 | undefined {
  if (value === undefined) return undefined;
  const props = (value !== null && (typeof value === "object" || typeof value === "function"))
    ? (value as Partial<StandardTypedV1>)["~standard"]
    : undefined;
  const valid = props !== null && typeof props === "object" && props.version === 1 &&
    (!validates || typeof (props as Partial<StandardSchemaV1.Props>).validate === "function");
  if (!valid) refuse(what, key, SPEC_KEYS[key]!, value);
  return value as StandardTypedV1;
}

function jsonSchemasOf(what: string, value: unknown): DeclaredJsonSchemas | undefined {
  if (value === undefined) return undefined;
  const isObject = (item: unknown): item is JsonSchema =>
    item !== null && typeof item === "object" && !Array.isArray(item);
  if (!isObject(value)) refuse(what, "jsonSchema", SPEC_KEYS.jsonSchema!, value);
  const schemas: DeclaredJsonSchemas = {};
  for (const [key, schema] of Object.entries(value)) {
    if (key !== "params" && key !== "result" && key !== "items") {
      throw new UsageError(
        "ERR_INVALID_ARGUMENT",
        `${what}'s jsonSchema takes params, result and items; found "${key}"`,
      );
    }
    if (schema === undefined) continue;
    if (!isObject(schema)) refuse(what, `jsonSchema.${key}`, "a JSON Schema object", schema);
    schemas[key] = schema;
  }
  return schemas;
}

function refuse(what: string, name: string, expected: string, found: unknown): never {
  const shown = typeof found === "string" ? JSON.stringify(found) : found === null ? "null" : typeof found;
  throw new UsageError("ERR_INVALID_ARGUMENT", `Expected ${name} of ${what} to be ${expected}, found ${shown}`);
}
