// The @ts-expect-error lines are checked by tsc in the npm build (`npm run test:node`):
// if a call with wrong types stopped being an error, the build would fail.
import assert from "node:assert/strict";
import { join } from "node:path";
import { it } from "node:test";
import { connect, type HandlerContext, listen, type RpcConnection } from "../mod.ts";
import { tempDir } from "./_helpers.ts";

const api = {
  add: ([a, b]: [number, number]): number => a + b,
  greet: (name: string): Promise<string> => Promise.resolve(`hello ${name}`),
  async *count(n: number, context: HandlerContext): AsyncGenerator<number, string> {
    for (let i = 1; i <= n && !context.signal.aborted; i++) yield i;
    return "done";
  },
};
type Api = typeof api;

async function typedCalls(client: RpcConnection<Api>): Promise<[number, string, number[], string]> {
  const sum: number = await client.call("add", [1, 2]);
  const greeting: string = await client.call("greet", "ada");
  const items: number[] = [];
  for await (const item of client.stream("count", 3)) items.push(item);
  const finished: string = await client.call("count", 2);
  return [sum, greeting, items, finished];
}

function typeErrors(client: RpcConnection<Api>): void {
  // @ts-expect-error: params must be [number, number]
  void client.call("add", ["1", 2]).catch(() => {});
  // @ts-expect-error: the service has no such method
  void client.call("subtract", [1, 2]).catch(() => {});
  // @ts-expect-error: add returns a number, not a string
  const wrong: Promise<string> = client.call("add", [1, 2]);
  void wrong.catch(() => {});
}

it("type-checks calls against the server's handlers, and they work", async () => {
  const dir = tempDir();
  const address = `unix:${join(dir.path, "typed.sock")}`;
  const server = await listen(address, { handlers: api });
  const client = await connect<Api>(address);
  assert.deepEqual(await typedCalls(client), [3, "hello ada", [1, 2, 3], "done"]);
  assert.equal(typeof typeErrors, "function");
  const untyped = await connect(address);
  assert.equal(await untyped.call("add", [2, 2]), 4);
  await untyped.close();
  await client.close();
  await server.close();
  dir.cleanup();
});
