/**
 * Introspection: the description a router gives of what it serves (the
 * body of the answer to a `describe` request), and the check a client makes
 * of the description it receives. docs/PROTOCOL.md section 8 has the bytes.
 *
 * @module
 */

import type { StandardJSONSchemaV1, StandardTypedV1 } from "@standard-schema/spec";
import { RemoteError } from "../base/errors.ts";
import { CAPABILITIES, PROTOCOL_VERSION } from "../session/session_protocol.ts";
import type { Declaration, JsonSchema, MethodKind } from "./declaration.ts";
import type { Route, Router } from "./router.ts";

/** What a server serves, as `describe` reports it. */
export interface ServiceDescription {
  /** The peerlink protocol version the server speaks. */
  version: number;
  /** The session capabilities the server offers. */
  capabilities: string[];
  /** The methods, sorted by name. */
  methods: MethodDescription[];
  /** The notifications the server listens for, sorted by name. */
  notifications: NotificationDescription[];
}

/** One method of a {@link ServiceDescription}. */
export interface MethodDescription {
  /** The method name. */
  name: string;
  /** The service id its requests carry. */
  serviceId: number;
  /**
   * How it exchanges data: declared with `method({ kind })`, else
   * `"server-stream"` for an async generator function or a method with an
   * `items` schema, else `"unary"` (a plain function that reads
   * `ctx.input` or calls `ctx.send` cannot be told apart; declare its kind).
   * Later versions may add kinds.
   */
  kind: MethodKind;
  /** The one-line description declared with `method()`. */
  description?: string;
  /** JSON Schema of the parameters, where the declaration has one. */
  params?: JsonSchema;
  /** JSON Schema of the result, where the declaration has one. */
  result?: JsonSchema;
  /** JSON Schema of each streamed item, where the declaration has one. */
  items?: JsonSchema;
}

/** One notification of a {@link ServiceDescription}. */
export interface NotificationDescription {
  /** The notification name. */
  name: string;
  /** The stream kind (service id) its messages carry. */
  serviceId: number;
  /** The one-line description declared with `notification()`. */
  description?: string;
  /** JSON Schema of the parameters, where the declaration has one. */
  params?: JsonSchema;
}

/** The JSON Schema drafts asked of a Standard JSON Schema, in order of preference. */
const JSON_SCHEMA_TARGETS = ["draft-2020-12", "draft-07"] as const;

/** JSON Schemas made from declarations, made once per schema. */
const converted = new WeakMap<object, JsonSchema | null>();

/**
 * Describes what a router serves.
 *
 * @param router The router.
 * @returns Version, capabilities, methods and notifications.
 *
 * @example
 * ```ts
 * import { routerOf } from "./router.ts";
 * import { describeRouter } from "./describe.ts";
 * const router = routerOf({ handlers: { add: ([a, b]: number[]) => a! + b!, async *count() {} } });
 * const kinds = describeRouter(router).methods.map((m) => `${m.name}:${m.kind}`);
 * console.assert(kinds.join() === "add:unary,count:server-stream");
 * ```
 */
export function describeRouter(router: Router): ServiceDescription {
  return {
    version: PROTOCOL_VERSION,
    capabilities: [...CAPABILITIES],
    methods: sortedByName(router.methodRoutes).map(([serviceId, route]) => describeMethod(serviceId, route)),
    notifications: sortedByName(router.notificationRoutes).map(([serviceId, route]) => {
      const found: NotificationDescription = { name: route.name, serviceId };
      addDeclared(found, route.declaration, ["params"]);
      return found;
    }),
  };
}

function describeMethod(serviceId: number, route: Route<unknown>): MethodDescription {
  const declaration = route.declaration;
  const streams = declaration?.items !== undefined || isAsyncGeneratorFunction(route.target);
  const found: MethodDescription = {
    name: route.name,
    serviceId,
    kind: declaration?.kind ?? (streams ? "server-stream" : "unary"),
  };
  addDeclared(found, declaration, ["params", "result", "items"]);
  return found;
}

/** Adds the description and the JSON Schemas a declaration has (in that order, after name, id and kind). */
function addDeclared(
  found: MethodDescription | NotificationDescription,
  declaration: Declaration | undefined,
  slots: readonly ("params" | "result" | "items")[],
): void {
  if (declaration === undefined) return;
  if (declaration.description !== undefined) found.description = declaration.description;
  for (const slot of slots) {
    const schema = declaration.jsonSchema?.[slot] ?? jsonSchemaOf(declaration[slot]);
    if (schema !== undefined) (found as MethodDescription)[slot] = schema;
  }
}

/**
 * The JSON Schema of what a value must look like before the schema takes
 * it (its input: what a caller sends, what a handler returns), where the
 * schema offers one through Standard JSON Schema; `undefined` where it
 * does not, or cannot convert this schema.
 */
function jsonSchemaOf(schema: StandardTypedV1 | undefined): JsonSchema | undefined {
  if (schema === undefined) return undefined;
  const known = converted.get(schema);
  if (known !== undefined) return known ?? undefined;
  let made: JsonSchema | null = null;
  const converter = (schema["~standard"] as Partial<StandardJSONSchemaV1.Props>).jsonSchema;
  for (const target of JSON_SCHEMA_TARGETS) {
    if (typeof converter?.input !== "function") break;
    try {
      const result = converter.input({ target });
      if (result !== null && typeof result === "object") {
        made = result;
        break;
      }
    } catch {
      // This target (or this schema) is not supported: try the next, then describe it without a schema.
    }
  }
  converted.set(schema, made);
  return made ?? undefined;
}

function isAsyncGeneratorFunction(fn: unknown): boolean {
  return Object.prototype.toString.call(fn) === "[object AsyncGeneratorFunction]";
}

function sortedByName<T extends { readonly name: string }>(routes: ReadonlyMap<number, T>): [number, T][] {
  return [...routes].sort(([, a], [, b]) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Checks that a decoded answer to `describe` is a service description.
 *
 * @param value The decoded body of the answer.
 * @returns The description.
 * @throws {RemoteError} `ERR_REMOTE` when it is not one (the peer does not follow this convention).
 */
export function descriptionFrom(value: unknown): ServiceDescription {
  const refuse = (what: string): never => {
    throw new RemoteError("ERR_REMOTE", `The peer's answer to describe is not a service description: ${what}`);
  };
  if (!isRecord(value)) return refuse("not a map");
  const { version, capabilities, methods, notifications } = value;
  if (!Number.isSafeInteger(version)) refuse("no version");
  if (!Array.isArray(capabilities) || !capabilities.every((name) => typeof name === "string")) {
    refuse("capabilities is not a list of names");
  }
  if (!Array.isArray(methods) || !Array.isArray(notifications)) refuse("no methods or notifications");
  const entries = [...(methods as unknown[]), ...(notifications as unknown[])];
  for (const entry of entries) {
    if (!isRecord(entry) || typeof entry.name !== "string" || !Number.isSafeInteger(entry.serviceId)) {
      refuse("an entry without a name or service id");
    }
    const { description, params, result, items } = entry as Record<string, unknown>;
    if (description !== undefined && typeof description !== "string") refuse(`a description that is not text`);
    if ([params, result, items].some((schema) => schema !== undefined && !isRecord(schema))) {
      refuse("a schema that is not a map");
    }
  }
  if (!(methods as Record<string, unknown>[]).every((entry) => typeof entry.kind === "string")) {
    refuse("a method without a kind");
  }
  return value as unknown as ServiceDescription;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Uint8Array);
}
