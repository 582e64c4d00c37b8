// Typed calls, client-stream items and notifications. The @ts-expect-error lines are checked by
// `deno check` and by tsc in the npm build: a mistake that stopped being a compile error fails both.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type CallArgs,
  type CallOptions,
  connect,
  type HandlerContext,
  type InputOf,
  listen,
  type NotifyArgs,
  type RpcConnection,
  type RpcServer,
  type Service,
  type WithFds,
  withFds,
} from "../mod.ts";
import { tempDir, waitFor } from "./_helpers.ts";

const handlers = {
  greet: (name: string): string => `hello ${name}`,
  runtime: (): string => "test",
  maybe: (name?: string): string => name ?? "nobody",
  sum: async (_: undefined, context: HandlerContext<number>): Promise<number> => {
    let total = 0;
    for await (const n of context.input) total += n;
    return total;
  },
  double: async function* (_: undefined, context: HandlerContext<number>): AsyncGenerator<number, string> {
    for await (const n of context.input) yield n * 2;
    return "doubled";
  },
  announce: async (text: string, context: HandlerContext): Promise<void> => {
    await context.connection.notify("news", text);
  },
};
type Handlers = typeof handlers;

const logged: string[] = [];
const events = { log: (line: string): void => void logged.push(line) };
type Events = typeof events;

/** Exactly the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

const dir = tempDir();
const address = `unix:${join(dir.path, "typed.sock")}`;
let server: RpcServer;
let client: RpcConnection<Handlers, Events>;
const news: string[] = [];

before(async () => {
  server = await listen(address, { handlers, notifications: events });
  const notifications = { news: (text: string) => void news.push(text) };
  client = await connect<Handlers, Events>(address, { notifications });
});

after(async () => {
  await client.close();
  await server.close();
  dir.cleanup();
});

/** Mistakes the compiler must catch; never run, only type-checked. */
async function compileErrors(typed: RpcConnection<Handlers, Events>): Promise<void> {
  const call = await typed.open("sum");
  // @ts-expect-error: greet requires its name
  void typed.call("greet");
  // @ts-expect-error: greet requires its name, also with fds
  void typed.callWithFds("greet");
  // @ts-expect-error: greet requires its name when streamed
  void typed.stream("greet");
  // @ts-expect-error: greet requires its name when streamed with fds
  void typed.streamWithFds("greet");
  // @ts-expect-error: greet requires its name when opened
  void typed.open("greet");
  // @ts-expect-error: the name is a string
  void typed.call("greet", 1);
  // @ts-expect-error: a wrapped name is a string too
  void typed.call("greet", withFds(1, []));
  // @ts-expect-error: runtime takes no parameter
  void typed.call("runtime", 5);
  // @ts-expect-error: the options come third
  void typed.call("greet", "ada", { timeout: "soon" });
  // @ts-expect-error: the service has no such method
  void typed.call("subtract", [1, 2]);
  // @ts-expect-error: greet returns a string, not a number
  const wrongResult: Promise<number> = typed.call("greet", "ada");
  // @ts-expect-error: double streams numbers, not strings
  const wrongItems: AsyncIterable<string> = typed.stream("double");
  // @ts-expect-error: sum reads numbers
  void call.send("x");
  // @ts-expect-error: a wrapped item is a number too
  void call.send(withFds("x", []));
  // @ts-expect-error: log takes a string
  void typed.notify("log", 1);
  // @ts-expect-error: log requires its line
  void typed.notify("log");
  // @ts-expect-error: the server listens for no such notification
  void typed.notify("nope", 1);
  void [wrongResult, wrongItems];
}

/** A service described by an interface, with an optional member; never run, only type-checked. */
interface Described {
  greet: (name: string) => string;
  runtime: () => string;
  maybe?: (name: string) => string;
}

async function unionAndOptionalErrors(
  described: RpcConnection<Described, { note: (text: string) => number }>,
  either: "greet" | "runtime",
): Promise<void> {
  // @ts-expect-error: one of the methods the name may be requires a parameter
  void described.call(either);
  // @ts-expect-error: an optional member still requires its parameter
  void described.call("maybe");
  // A listener may return anything; the notification's params are still checked.
  // @ts-expect-error: note takes a string
  void described.notify("note", 1);
  await described.call("maybe", "ada");
  await described.notify("note", "text");
}

/** Handler bodies see the item type their context declares; never run, only type-checked. */
async function inputErrors(_: undefined, context: HandlerContext<number>): Promise<void> {
  for await (const n of context.input) {
    // @ts-expect-error: input items are numbers
    const text: string = n;
    void text;
  }
  for await (const item of context.inputWithFds) {
    // @ts-expect-error: input items with descriptors are numbers too
    const text: string = item.value;
    void text;
  }
}

describe("typed calls", () => {
  it("rejects mistakes at compile time (checked by deno check and tsc)", () => {
    assert.equal(typeof unionAndOptionalErrors, "function");
    assert.equal(typeof compileErrors, "function");
    assert.equal(typeof inputErrors, "function");
  });

  it("derives the argument and input types from the handlers", () => {
    type Greet = Handlers["greet"];
    const required: Equal<CallArgs<Greet>, [params: string | WithFds<string>, options?: CallOptions]> = true;
    const none: Equal<CallArgs<Handlers["runtime"]>, [params?: undefined | WithFds<undefined>, options?: CallOptions]> =
      true;
    const input: Equal<InputOf<Handlers["sum"]>, number> = true;
    const undeclared: Equal<InputOf<Handlers["greet"]>, unknown> = true;
    const notify: Equal<NotifyArgs<Events["log"]>, [params: string | WithFds<string>]> = true;
    assert.deepEqual([required, none, input, undeclared, notify], [true, true, true, true, true]);
  });

  it("accepts handlers that declare their input type as a Service", async () => {
    const service: Service = handlers;
    assert.equal(Object.keys(service).length, 6);
    const other = await connect(address, { handlers: { sum: handlers.sum } });
    other.handle("double", handlers.double);
    assert.equal(other.isClosed, false);
    await other.close();
  });

  it("requires parameters where the handler does, and runs the calls", async () => {
    assert.equal(await client.call("greet", "ada"), "hello ada");
    assert.equal(await client.call("greet", "ada", { timeout: 1000 }), "hello ada");
    assert.equal(await client.call("greet", withFds("bob", [])), "hello bob");
    assert.equal(await client.call("runtime"), "test");
    assert.equal(await client.call("runtime", undefined, { timeout: 1000 }), "test");
    assert.equal(await client.call("maybe"), "nobody");
    assert.equal(await client.call("maybe", "eve"), "eve");
    const { value, fds } = await client.callWithFds("greet", "cy");
    assert.deepEqual([value, fds], ["hello cy", []]);
  });

  it("types the items an open call sends and receives", async () => {
    const summing = await client.open("sum");
    await summing.send(1);
    await summing.send(withFds(2, []));
    await summing.end();
    const total: number = await summing.result;
    assert.equal(total, 3);

    const doubling = await client.open("double", undefined, { timeout: 5000 });
    await doubling.send(5);
    await doubling.send(6);
    await doubling.end();
    const doubled: number[] = [];
    for await (const n of doubling) doubled.push(n);
    const finished: string = await doubling.result;
    assert.deepEqual([doubled, finished], [[10, 12], "doubled"]);
  });

  it("checks notifications against the server's listeners and delivers them both ways", async () => {
    await client.notify("log", "hi");
    await client.notify("log", withFds("there", []));
    await client.call("announce", "fresh");
    await waitFor(() => logged.length === 2 && news.length === 1, "the notifications arrived");
    assert.deepEqual([logged, news], [["hi", "there"], ["fresh"]]);
  });

  it("lets an untyped connection call any method with any or no parameters", async () => {
    const untyped = await connect(address);
    try {
      assert.equal(await untyped.call("greet", "dee"), "hello dee");
      assert.equal(await untyped.call("runtime"), "test");
      await untyped.notify("log", "untyped");
      await assert.rejects(untyped.call("subtract", [1, 2]), { code: "ERR_METHOD_NOT_FOUND" });
      await waitFor(() => logged.includes("untyped"), "the untyped notification arrived");
    } finally {
      await untyped.close();
    }
  });
});
