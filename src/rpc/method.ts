/**
 * Declaring a method or a notification listener: schemas for its
 * parameters (checked before it runs, with any Standard Schema library),
 * its result and items (described), a one-line description and a kind,
 * all of which `describe` reports. The client's types follow the schemas.
 *
 * @module
 */

import type { StandardSchemaV1, StandardTypedV1 } from "@standard-schema/spec";
import { declare, type DeclaredJsonSchemas, type JsonSchema, type MethodKind } from "./declaration.ts";
import type { NotificationContext } from "./router.ts";
import type { HandlerContext } from "./service.ts";
import type { WithFds } from "./with_fds.ts";

/** What {@link method} takes besides the handler. Every key is optional. */
export interface MethodSpec {
  /**
   * The parameters' schema. Parameters it refuses are answered with
   * `ERR_INVALID_PARAMS` (and the issues) before the handler runs; the
   * handler receives the schema's output.
   */
  params?: StandardSchemaV1;
  /** The result's schema: it types the handler's return value and is described, not checked. */
  result?: StandardTypedV1;
  /** The schema of each streamed item: it types what the handler yields and is described, not checked. */
  items?: StandardTypedV1;
  /** One line for people, shown by `describe`. */
  description?: string;
  /**
   * What `describe` reports; default `"server-stream"` for an async
   * generator function or a method with `items`, else `"unary"`.
   */
  kind?: MethodKind;
  /** JSON Schemas to describe instead of those the schemas offer (or where there is no schema). */
  jsonSchema?: DeclaredJsonSchemas;
}

/** What {@link notification} takes besides the listener. Every key is optional. */
export interface NotificationSpec {
  /** The parameters' schema. A notification whose parameters it refuses is dropped; the listener gets its output. */
  params?: StandardSchemaV1;
  /** One line for people, shown by `describe`. */
  description?: string;
  /** A JSON Schema of the parameters to describe instead of the one the schema offers. */
  jsonSchema?: { params?: JsonSchema };
}

/** A value as a handler may return or yield it: plain or wrapped with `withFds`. */
type Sent<T> = T | WithFds<T>;

/** The parameters a declared handler receives: the output of its `params` schema; anything without one. */
export type DeclaredParams<S> = S extends { readonly params: infer P extends StandardSchemaV1 }
  ? StandardSchemaV1.InferOutput<P>
  // deno-lint-ignore no-explicit-any
  : any;

type DeclaredResult<S> = S extends { readonly result: infer R extends StandardTypedV1 }
  ? Sent<StandardTypedV1.InferInput<R>>
  : unknown;

type DeclaredItem<S> = S extends { readonly items: infer I extends StandardTypedV1 }
  ? Sent<StandardTypedV1.InferInput<I>>
  : unknown;

/**
 * What a declared handler may return: with `items`, an async generator of
 * them (returning the `result`, if declared); with only `result`, the result
 * or a promise of it (or a generator returning it); anything otherwise.
 */
export type DeclaredReturn<S> = S extends { readonly items: StandardTypedV1 }
  // deno-lint-ignore no-explicit-any
  ? S extends { readonly result: StandardTypedV1 } ? AsyncGenerator<DeclaredItem<S>, DeclaredResult<S>, any>
  : AsyncIterable<DeclaredItem<S>>
  : S extends { readonly result: StandardTypedV1 }
  // deno-lint-ignore no-explicit-any
    ? DeclaredResult<S> | PromiseLike<DeclaredResult<S>> | AsyncGenerator<unknown, DeclaredResult<S>, any>
  : unknown;

/** A handler that fits a {@link MethodSpec}. */
// deno-lint-ignore no-explicit-any
export type MethodHandler<S> = (params: DeclaredParams<S>, context: HandlerContext<any>) => DeclaredReturn<S>;

/** A listener that fits a {@link NotificationSpec}. */
export type DeclaredListener<S> = (params: DeclaredParams<S>, context: NotificationContext) => unknown;

type ReturnOf<F> = F extends (...args: never[]) => infer R ? R : unknown;

type ContextOf<F, Default> = F extends (params: never, context: infer C, ...rest: never[]) => unknown
  ? unknown extends C ? Default : C
  : Default;

/**
 * The type of what {@link method} returns, as clients see it: the handler
 * with the `params` schema's input type as its parameter (what a caller
 * sends), or the handler's own type when there is no `params` schema.
 */
export type DeclaredMethod<S, H> = S extends { readonly params: infer P extends StandardSchemaV1 }
  ? (params: StandardSchemaV1.InferInput<P>, context: ContextOf<H, HandlerContext>) => ReturnOf<H>
  : H;

/** The type of what {@link notification} returns, as senders see it (see {@link DeclaredMethod}). */
export type DeclaredNotification<S, L> = S extends { readonly params: infer P extends StandardSchemaV1 }
  ? (params: StandardSchemaV1.InferInput<P>, context: NotificationContext) => ReturnOf<L>
  : L;

const METHOD_KEYS = ["params", "result", "items", "description", "kind", "jsonSchema"] as const;
const NOTIFICATION_KEYS = ["params", "description", "jsonSchema"] as const;

/**
 * Declares a method: schemas for its parameters (checked before the handler
 * runs) and for its result and items (described), a one-line description
 * and a kind. Use what it returns as the handler (in `handlers`, or with
 * `router.handle`); `describe` reports the declaration, and
 * `connect<typeof handlers>()` types calls by the schemas: a caller sends
 * the `params` schema's input, the handler receives its output. Schemas
 * come from any library that implements Standard Schema (valibot, zod,
 * arktype, ...); peerlink depends on none.
 *
 * A method without a `params` schema runs exactly as the plain handler
 * would; one with a schema costs its validation, nothing else.
 *
 * @param spec What to declare; every key is optional.
 * @param handler The handler, as it would be written without `method`.
 * @returns A handler that carries the declaration.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` for a key it does not know, or a value of the wrong kind.
 *
 * @example
 * ```ts ignore
 * import * as v from "valibot";
 * import { listen, method } from "peerlink";
 *
 * const handlers = {
 *   resize: method(
 *     { params: v.object({ width: v.pipe(v.number(), v.minValue(1)) }), description: "Scales to a width" },
 *     ({ width }) => ({ width, height: width * 0.75 }),
 *   ),
 * };
 * const server = await listen("unix:/tmp/app.sock", { handlers });
 * // client.call("resize", { width: 0 }) rejects with ERR_INVALID_PARAMS, and the handler does not run.
 * ```
 */
export function method<S extends MethodSpec, H extends MethodHandler<S>>(spec: S, handler: H): DeclaredMethod<S, H> {
  return declare("method()", spec, handler, METHOD_KEYS) as DeclaredMethod<S, H>;
}

/**
 * Declares a notification listener: a schema for its parameters (a
 * notification it refuses is dropped, since nobody waits for an answer) and
 * a one-line description, which `describe` reports. Use what it returns as
 * the listener (in `notifications`, or with `onNotify`).
 *
 * @param spec What to declare; every key is optional.
 * @param listener The listener, as it would be written without `notification`.
 * @returns A listener that carries the declaration.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` for a key it does not know, or a value of the wrong kind.
 *
 * @example
 * ```ts ignore
 * import * as v from "valibot";
 * import { listen, notification } from "peerlink";
 *
 * const notifications = {
 *   log: notification({ params: v.string(), description: "A line for the server's log" }, (line) => console.log(line)),
 * };
 * const server = await listen("unix:/tmp/app.sock", { notifications });
 * ```
 */
export function notification<S extends NotificationSpec, L extends DeclaredListener<S>>(
  spec: S,
  listener: L,
): DeclaredNotification<S, L> {
  return declare("notification()", spec, listener, NOTIFICATION_KEYS) as DeclaredNotification<S, L>;
}
