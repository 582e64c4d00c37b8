// Handlers declared with method({ params }) and a real Standard Schema library (valibot): parameters the schema
// refuses are answered with ERR_INVALID_PARAMS before the handler runs, the handler gets the schema's output, and the
// client's types follow the schemas. The @ts-expect-error lines are checked by `deno check` and by tsc in the npm
// build: if a call with wrong types stopped being an error, the check would fail.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as v from "valibot";
import {
  connect,
  type HandlerContext,
  listen,
  method,
  notification,
  type ParamsIssue,
  RemoteError,
  type RpcConnection,
  type RpcServer,
  UsageError,
} from "../mod.ts";
import { delay, tempDir, waitFor } from "./_helpers.ts";

const ran: string[] = [];
const logged: unknown[] = [];

const Size = v.object({ width: v.pipe(v.number(), v.minValue(1)), height: v.optional(v.number(), 10) });

const handlers = {
  area: method({ params: Size, result: v.number(), description: "Width times height" }, (size) => {
    ran.push("area");
    return size.width * size.height; // height is a number here: the schema's default filled it in
  }),
  // The schema's output (the trimmed length) is what the handler receives; callers send a string.
  length: method({ params: v.pipe(v.string(), v.trim(), v.transform((text) => text.length)) }, (n: number) => {
    ran.push("length");
    return n;
  }),
  slowCheck: method(
    {
      params: v.pipeAsync(
        v.string(),
        v.checkAsync(async (name) => {
          await delay(name === "slow" ? 200 : 5);
          return name !== "taken";
        }, "The name is taken"),
      ),
    },
    (name) => {
      ran.push(`slowCheck ${name}`);
      return `hello ${name}`;
    },
  ),
  countTo: method({ params: v.number(), items: v.number(), result: v.string() }, async function* (n) {
    for (let i = 1; i <= n; i++) yield i;
    return "done";
  }),
  sum: method(
    { params: v.undefined(), kind: "client-stream" },
    async (_: undefined, ctx: HandlerContext<number>): Promise<number> => {
      let total = 0;
      for await (const n of ctx.input) total += n;
      return total;
    },
  ),
  broken: method({
    params: { "~standard": { version: 1, vendor: "test", validate: () => Promise.reject(new Error("schema bug")) } },
  }, () => ran.push("broken")),
  plain: (x: number) => x * 2,
};
type Api = typeof handlers;

const notifications = {
  log: notification({ params: v.pipe(v.string(), v.toUpperCase()) }, (line) => void logged.push(line)),
};

const dir = tempDir();
const address = `unix:${join(dir.path, "validation.sock")}`;
let server: RpcServer;
let client: RpcConnection<Api, typeof notifications>;

before(async () => {
  server = await listen(address, { handlers, notifications });
  client = await connect<Api, typeof notifications>(address);
});

after(async () => {
  await client.close();
  await server.close();
  dir.cleanup();
});

/** The remote error a call rejected with. */
async function refusal(call: Promise<unknown>): Promise<RemoteError> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof RemoteError, `expected a RemoteError, got ${String(error)}`);
  return error;
}

function typeErrors(typed: RpcConnection<Api, typeof notifications>): void {
  // @ts-expect-error: width must be a number
  void typed.call("area", { width: "3" }).catch(() => {});
  // @ts-expect-error: width is required (height is optional: the schema has a default)
  void typed.call("area", { height: 3 }).catch(() => {});
  // @ts-expect-error: area returns a number, as its result schema says
  const wrong: Promise<string> = typed.call("area", { width: 1 });
  void wrong.catch(() => {});
  // @ts-expect-error: callers send the schema's input (a string), not the handler's parameter (a number)
  void typed.call("length", 3).catch(() => {});
  // @ts-expect-error: log takes a string
  void typed.notify("log", 1).catch(() => {});
  // @ts-expect-error: a handler must fit its params schema (the output is a number, not a string)
  method({ params: v.number() }, (text: string) => text);
  // @ts-expect-error: a handler must return what its result schema takes
  method({ result: v.number() }, () => "three");
}

describe("validated parameters", () => {
  it("runs the handler with valid parameters, and types the calls by the schemas", async () => {
    const area: number = await client.call("area", { width: 3, height: 4 });
    assert.equal(area, 12);
    assert.equal(await client.call("area", { width: 3 }), 30, "the schema's default reached the handler");
    assert.equal(await client.call("plain", 21), 42, "a plain handler next to declared ones is unchanged");
    assert.equal(typeof typeErrors, "function");
  });

  it("answers invalid parameters with ERR_INVALID_PARAMS and the issues, without running the handler", async () => {
    ran.length = 0;
    const tooSmall = await refusal(client.call("area", { width: 0 }));
    assert.equal(tooSmall.code, "ERR_INVALID_PARAMS");
    assert.match(tooSmall.message, /^Invalid params for "area": .*\(at width\)$/);
    const issues = (tooSmall.data as { issues: ParamsIssue[] }).issues;
    assert.equal(issues.length, 1);
    assert.deepEqual(issues[0]!.path, ["width"]);
    assert.match(issues[0]!.message, /Invalid value: Expected >=1 but received 0/);

    const wrongTypes = await refusal(client.call("area", { width: "3", height: null } as never));
    const paths = (wrongTypes.data as { issues: ParamsIssue[] }).issues.map((issue) => issue.path);
    assert.deepEqual(paths, [["width"], ["height"]]);
    assert.match(wrongTypes.message, /and 1 more issue$/);

    const notAnObject = await refusal(client.call("area", undefined as never));
    assert.deepEqual((notAnObject.data as { issues: ParamsIssue[] }).issues.map((issue) => issue.path), [[]]);
    await refusal(client.call("countTo", "3" as never));
    assert.deepEqual(ran, [], "no handler ran");
  });

  it("hands the handler the schema's output, not what the caller sent", async () => {
    assert.equal(await client.call("length", "  four  "), 4);
  });

  it("waits for asynchronous schemas, and answers what they refuse", async () => {
    ran.length = 0;
    assert.equal(await client.call("slowCheck", "ada"), "hello ada");
    const taken = await refusal(client.call("slowCheck", "taken"));
    assert.equal(taken.code, "ERR_INVALID_PARAMS");
    assert.deepEqual((taken.data as { issues: ParamsIssue[] }).issues, [{ path: [], message: "The name is taken" }]);
    assert.deepEqual(ran, ["slowCheck ada"]);
  });

  it("does not run the handler of a call that timed out while its schema was checking", async () => {
    ran.length = 0;
    const error = await client.call("slowCheck", "slow", { timeout: 50 }).then(() => undefined, (e: unknown) => e);
    assert.equal((error as { code?: string }).code, "ERR_TIMEOUT");
    await delay(300);
    assert.deepEqual(ran, [], "the handler never started");
  });

  it("answers a schema that throws like a handler that throws", async () => {
    ran.length = 0;
    const error = await refusal(client.call("broken", 1));
    assert.deepEqual([error.code, error.message], ["ERR_HANDLER_FAILED", "schema bug"]);
    assert.deepEqual(ran, []);
  });

  it("checks the parameters of streaming and client-streaming methods", async () => {
    const items: number[] = [];
    for await (const n of client.stream("countTo", 3)) items.push(n);
    assert.deepEqual(items, [1, 2, 3]);
    assert.equal(await client.call("countTo", 1), "done");
    const upload = await client.open("sum");
    for (const n of [1, 2, 3]) await upload.send(n);
    await upload.end();
    assert.equal(await upload.result, 6);
    const refused = await client.open("sum", 5 as never);
    assert.equal((await refusal(refused.result)).code, "ERR_INVALID_PARAMS");
  });

  it("drops notifications the schema refuses, and delivers the schema's output", async () => {
    await client.notify("log", 7 as never);
    await client.notify("log", "ready");
    await waitFor(() => logged.length > 0, "the valid notification arrived");
    await delay(20);
    assert.deepEqual(logged, ["READY"]);
  });

  it("refuses declarations it cannot use", () => {
    const refused = (declare: () => unknown, pattern: RegExp): void => {
      assert.throws(declare, (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.equal(error.code, "ERR_INVALID_ARGUMENT");
        assert.match(error.message, pattern);
        return true;
      });
    };
    // As a program without types would call them.
    const untyped = method as (spec: unknown, handler: unknown) => unknown;
    const untypedListener = notification as (spec: unknown, listener: unknown) => unknown;
    refused(() => untyped({ param: v.number() }, () => 1), /takes params, result, items.*found "param"/);
    refused(() => untyped({ params: { parse: () => 1 } }, () => 1), /params of method\(\) to be a Standard/);
    refused(() => untyped({ description: "two\nlines" }, () => 1), /description of method\(\) to be one line/);
    refused(() => untyped({ kind: "stream" }, () => 1), /kind of method\(\) to be one of "unary"/);
    refused(() => untyped({}, "handler"), /the handler of method\(\) to be a function/);
    refused(() => untyped(null, () => 1), /the declaration of method\(\) to be an object/);
    refused(() => untypedListener({ items: v.number() }, () => {}), /notification\(\) takes params, desc/);
  });
});
