/**
 * Method and notification registry shared by the connections of a server.
 *
 * @module
 */

import { UsageError } from "../base/errors.ts";
import type { FdHandle } from "../base/fd_handle.ts";
import { resolveMethodId } from "../wire/method_id.ts";
import type { RpcConnection } from "./connection.ts";
import type { Handler } from "./service.ts";

/** What a notification listener receives besides the parameters. */
export interface NotificationContext {
  /** The notification name. */
  readonly method: string;
  /** The connection it arrived on. */
  readonly connection: RpcConnection;
  /** Descriptors that came with it; unclaimed ones are closed after the listener returns. */
  readonly fds: FdHandle[];
}

/** Receives one-way notifications. */
// deno-lint-ignore no-explicit-any
export type NotificationListener = (params: any, context: NotificationContext) => void | Promise<void>;

/** A registered method. */
export interface Route<T> {
  /** The method name. */
  readonly name: string;
  /** The function to run. */
  readonly target: T;
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

  /**
   * Creates the instance.
   *
   * @param serviceIds Explicit method name → service id mapping (for fizyr interop).
   */
  constructor(serviceIds?: Readonly<Record<string, number>>) {
    this.#serviceIds = serviceIds;
  }

  /**
   * The service id `name` maps to.
   *
   * @param name The method name.
   * @returns The service id.
   */
  idOf(name: string): number {
    return resolveMethodId(name, this.#serviceIds);
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
}

function register<T>(routes: Map<number, Route<T>>, id: number, name: string, target: T): void {
  const existing = routes.get(id);
  if (existing !== undefined && existing.name !== name) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Methods "${existing.name}" and "${name}" both map to service id ${id}; give one an explicit id with serviceIds`,
    );
  }
  routes.set(id, { name, target });
}
