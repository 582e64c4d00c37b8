/**
 * Method and notification registry shared by the connections of a server.
 *
 * @module
 */

import { isReservedServiceId, RESERVED_SERVICE_IDS } from "../session/session_protocol.ts";
import { UsageError } from "../base/errors.ts";
import type { FdHandle } from "../base/fd_handle.ts";
import { resolveMethodId } from "../wire/method_id.ts";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { RpcCaller } from "./caller.ts";
import { type Declaration, declarationOf } from "./declaration.ts";
import type { Handler, Service } from "./service.ts";

/** What a notification listener receives besides the parameters. */
export interface NotificationContext {
  /** The notification name. */
  readonly method: string;
  /** The connection it arrived on. */
  readonly connection: RpcCaller;
  /** Descriptors that came with it; unclaimed ones are closed after the listener returns. */
  readonly fds: FdHandle[];
}

/** Receives one-way notifications; what it returns (or the promise it returns resolves to) is ignored. */
// deno-lint-ignore no-explicit-any
export type NotificationListener = (params: any, context: NotificationContext) => unknown;

/**
 * A set of named notification listeners. Its type, given to `connect` as the
 * second type parameter, checks the client's `notify` calls.
 *
 * @example
 * ```ts
 * import type { Notifications } from "./router.ts";
 * const notifications = { log: (line: string) => console.log(line) } satisfies Notifications;
 * notifications.log("ready");
 * ```
 */
export type Notifications = { [name: string]: NotificationListener };

/** What a {@link Router} is built from: the options that name methods and listeners. */
export interface RouterOptions {
  /** Explicit method name → service id mapping (fizyr interop), ids from −2^31 to 2^31 − 1; other names are hashed. */
  serviceIds?: Readonly<Record<string, number>>;
  /** Method handlers to register. */
  handlers?: Service;
  /** Notification listeners to register. */
  notifications?: Notifications;
  /**
   * Answer `describe` requests (the reserved service id `DESCRIBE`) with the
   * registered methods and notifications. Default true; when false they are
   * answered `ERR_METHOD_NOT_FOUND` like any unknown method.
   */
  describe?: boolean;
}

/** How many method names' service ids a router remembers. */
const ID_CACHE_SIZE = 1024;

/** A registered method. */
export interface Route<T> {
  /** The method name. */
  readonly name: string;
  /** The function to run. */
  readonly target: T;
  /**
   * The parameters' schema declared with `method()` or `notification()`,
   * checked before `target` runs; `undefined` for a plain function.
   */
  readonly params: StandardSchemaV1 | undefined;
  /** What `method()` or `notification()` declared; `undefined` for a plain function. */
  readonly declaration: Declaration | undefined;
}

/**
 * Maps service ids to named handlers and notification listeners.
 *
 * @example
 * ```ts
 * import { Router } from "./router.ts";
 * const router = new Router();
 * router.handle("echo", (params) => params);
 * console.assert(router.methods().includes("echo"));
 * ```
 */
export class Router {
  readonly #serviceIds: Readonly<Record<string, number>> | undefined;
  readonly #methods = new Map<number, Route<Handler>>();
  readonly #notifications = new Map<number, Route<NotificationListener>>();
  /** Service ids of the names asked for lately, so that a call does not hash its method name. */
  readonly #ids = new Map<string, number>();
  /** Whether `describe` requests are answered. */
  readonly describes: boolean;

  /**
   * Creates the instance.
   *
   * @param serviceIds Explicit method name → service id mapping (for fizyr interop).
   * @param options `describe`: answer `describe` requests (default true).
   * @throws {UsageError} `ERR_INVALID_ARGUMENT` for an id in the block reserved for sessions (−2^31 to −2^31 + 255).
   */
  constructor(serviceIds?: Readonly<Record<string, number>>, options: { describe?: boolean } = {}) {
    for (const [name, id] of Object.entries(serviceIds ?? {})) {
      if (isReservedServiceId(id)) {
        throw new UsageError(
          "ERR_INVALID_ARGUMENT",
          `Service id ${id} of method "${name}" is reserved for peerlink sessions (ids ${RESERVED_SERVICE_IDS.min} to ${RESERVED_SERVICE_IDS.max})`,
        );
      }
    }
    this.#serviceIds = serviceIds;
    this.describes = options.describe ?? true;
  }

  /**
   * The service id `name` maps to.
   *
   * @param name The method name.
   * @returns The service id.
   */
  idOf(name: string): number {
    let id = this.#ids.get(name);
    if (id === undefined) {
      id = resolveMethodId(name, this.#serviceIds);
      // Names come from code, but a caller may make them up: the cache stays small either way.
      if (this.#ids.size >= ID_CACHE_SIZE) this.#ids.clear();
      this.#ids.set(name, id);
    }
    return id;
  }

  /**
   * Registers (or replaces) a method handler.
   *
   * @param name Method name.
   * @param handler The handler.
   * @throws {UsageError} `ERR_INVALID_ARGUMENT` if another method already maps to the same service id.
   */
  handle(name: string, handler: Handler): void {
    register(this.#methods, this.idOf(name), name, handler);
  }

  /**
   * Registers (or replaces) a notification listener.
   *
   * @param name Notification name.
   * @param listener The listener.
   */
  onNotify(name: string, listener: NotificationListener): void {
    register(this.#notifications, this.idOf(name), name, listener);
  }

  /**
   * Finds the handler of a service id.
   *
   * @param serviceId The id from the request.
   * @returns The route, or undefined.
   */
  method(serviceId: number): Route<Handler> | undefined {
    return this.#methods.get(serviceId);
  }

  /**
   * Finds the listener of a stream kind.
   *
   * @param serviceId The id from the stream message.
   * @returns The route, or undefined.
   */
  notification(serviceId: number): Route<NotificationListener> | undefined {
    return this.#notifications.get(serviceId);
  }

  /**
   * Lists the registered methods.
   *
   * @returns Their names.
   */
  methods(): string[] {
    return [...this.#methods.values()].map((route) => route.name);
  }

  /** The registered methods by service id (a live, read-only view). */
  get methodRoutes(): ReadonlyMap<number, Route<Handler>> {
    return this.#methods;
  }

  /** The registered notification listeners by service id (a live, read-only view). */
  get notificationRoutes(): ReadonlyMap<number, Route<NotificationListener>> {
    return this.#notifications;
  }
}

/**
 * Builds a router with the given handlers and listeners registered.
 *
 * @param options Service ids, handlers and notification listeners.
 * @returns The router.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` if two names map to the same service id.
 *
 * @example
 * ```ts
 * import { routerOf } from "./router.ts";
 * const router = routerOf({ handlers: { ping: () => "pong" }, notifications: { log: () => {} } });
 * console.assert(router.notification(router.idOf("log"))?.name === "log");
 * ```
 */
export function routerOf(options: RouterOptions): Router {
  const router = new Router(options.serviceIds, options.describe === undefined ? {} : { describe: options.describe });
  for (const [name, handler] of Object.entries(options.handlers ?? {})) router.handle(name, handler);
  for (const [name, listener] of Object.entries(options.notifications ?? {})) router.onNotify(name, listener);
  return router;
}

function register<T>(routes: Map<number, Route<T>>, id: number, name: string, target: T): void {
  const existing = routes.get(id);
  if (existing !== undefined && existing.name !== name) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Methods "${existing.name}" and "${name}" both map to service id ${id}; give one an explicit id with serviceIds`,
    );
  }
  // A declared function is registered as what it wraps: a call runs the handler itself.
  const declaration = declarationOf(target);
  const run = (declaration?.target ?? target) as T;
  routes.set(id, { name, target: run, params: declaration?.params, declaration });
}
