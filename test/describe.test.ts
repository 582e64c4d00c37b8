// Introspection: a server answers `describe` (a request on a reserved service id) with its version, capabilities,
// methods and notifications, their kinds, descriptions and JSON Schemas where the declarations offer them; on unix:
// and seqpacket:, from a peerlink client and from a plain fizyr-rpc peer; and not at all with `describe: false`.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import * as v from "valibot";
import {
  connect,
  type HandlerContext,
  listen,
  method,
  type MethodDescription,
  notification,
  RemoteError,
  type ServiceDescription,
} from "../mod.ts";
import { cborCodec, connectTransport, DESCRIBE_SERVICE_ID, listenTransport, methodId, Peer } from "../peer.ts";
import { tempDir } from "./_helpers.ts";

const dir = tempDir();
after(() => dir.cleanup());

/** A schema that offers its JSON Schema through Standard JSON Schema, the way libraries that implement it do. */
function jsonSchemaOffering(schema: Record<string, unknown>, targets: readonly string[]) {
  return {
    "~standard": {
      version: 1 as const,
      vendor: "test",
      validate: (value: unknown) => ({ value }),
      jsonSchema: {
        input: ({ target }: { target: string }) => {
          if (!targets.includes(target)) throw new Error(`unsupported target ${target}`);
          return { $schema: target, ...schema };
        },
        output: () => ({}),
      },
    },
  };
}

const Point = v.object({ x: v.number(), y: v.number() });
const POINT_SCHEMA = {
  type: "object",
  properties: { x: { type: "number" }, y: { type: "number" } },
  required: ["x", "y"],
};

const handlers = {
  add: ([a, b]: [number, number]) => a + b,
  async *ticks(n: number) {
    for (let i = 0; i < n; i++) yield i;
  },
  move: method({
    params: Point,
    result: jsonSchemaOffering({ type: "string" }, ["draft-07"]),
    description: "Moves the cursor to a point",
    jsonSchema: { params: POINT_SCHEMA },
  }, ({ x, y }) => `${x},${y}`),
  upload: method(
    { kind: "client-stream", description: "Adds what the caller streams" },
    async (_: undefined, ctx: HandlerContext<number>) => {
      let total = 0;
      for await (const n of ctx.input) total += n;
      return total;
    },
  ),
  chat: method({ kind: "bidirectional" }, async function* (_: undefined, ctx: HandlerContext<string>) {
    for await (const line of ctx.input) yield line.toUpperCase();
  }),
  lines: method({ items: jsonSchemaOffering({ type: "string" }, ["draft-2020-12", "draft-07"]) }, function () {
    return (async function* () {
      yield "one";
    })();
  }),
  opaque: method({ params: jsonSchemaOffering({}, []), result: v.string() }, () => "no JSON Schema to offer"),
};

const notifications = {
  log: notification({ params: v.string(), description: "A line for the log" }, () => {}),
  ping: () => {},
};

/** What `handlers` and `notifications` describe as, in name order. */
const EXPECTED: ServiceDescription = {
  version: 1,
  capabilities: ["call-context", "keepalive", "goaway"],
  methods: [
    { name: "add", serviceId: methodId("add"), kind: "unary" },
    { name: "chat", serviceId: 7, kind: "bidirectional" },
    {
      name: "lines",
      serviceId: methodId("lines"),
      kind: "server-stream",
      items: { $schema: "draft-2020-12", type: "string" },
    },
    {
      name: "move",
      serviceId: methodId("move"),
      kind: "unary",
      description: "Moves the cursor to a point",
      params: POINT_SCHEMA,
      result: { $schema: "draft-07", type: "string" },
    },
    { name: "opaque", serviceId: methodId("opaque"), kind: "unary" },
    { name: "ticks", serviceId: methodId("ticks"), kind: "server-stream" },
    {
      name: "upload",
      serviceId: methodId("upload"),
      kind: "client-stream",
      description: "Adds what the caller streams",
    },
  ] satisfies MethodDescription[],
  notifications: [
    { name: "log", serviceId: methodId("log"), description: "A line for the log" },
    { name: "ping", serviceId: methodId("ping") },
  ],
};

describe("describe", () => {
  for (const transport of ["unix", "seqpacket"] as const) {
    it(`describes methods and notifications over ${transport}:`, async () => {
      const address = `${transport}:${join(dir.path, `${transport}.sock`)}`;
      const server = await listen(address, { handlers, notifications, serviceIds: { chat: 7 } });
      const client = await connect(address);
      try {
        assert.deepEqual(await client.describe({ timeout: 5000 }), EXPECTED);
        // Registered later: the next answer has it.
        server.router.handle("late", () => 1);
        const names = (await client.describe()).methods.map((entry) => entry.name);
        assert.deepEqual(names, ["add", "chat", "late", "lines", "move", "opaque", "ticks", "upload"]);
      } finally {
        await client.close();
        await server.close();
      }
    });
  }

  it("answers a plain fizyr-rpc peer: a request on the reserved id, the description in CBOR", async () => {
    const address = `unix:${join(dir.path, "fizyr.sock")}`;
    const server = await listen(address, { handlers, notifications, serviceIds: { chat: 7 } });
    const peer = new Peer(await connectTransport(address));
    try {
      const response = await peer.request(DESCRIBE_SERVICE_ID, new Uint8Array(0));
      assert.equal(response.header.serviceId, 0, "status 0");
      assert.deepEqual(cborCodec.decode(response.body), EXPECTED);
    } finally {
      await peer.close();
      await server.close();
    }
  });

  it("sends the bytes of docs/PROTOCOL.md's example", async () => {
    const address = `unix:${join(dir.path, "example.sock")}`;
    const ping = method({ description: "Answers pong", jsonSchema: { result: { type: "string" } } }, () => "pong");
    const server = await listen(address, { handlers: { ping } });
    const peer = new Peer(await connectTransport(address));
    const hex = (bytes: Uint8Array): string => [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
    try {
      const response = await peer.request(DESCRIBE_SERVICE_ID, new Uint8Array(0));
      assert.equal(DESCRIBE_SERVICE_ID, -0x7ffffffc);
      assert.equal(
        hex(response.body),
        "a4676d6574686f647381a5646b696e6465756e617279646e616d656470696e6766726573756c74a1647479706566737472696e67" +
          "697365727669636549641a165df0896b6465736372697074696f6e6c416e737765727320706f6e676776657273696f6e016c63" +
          "61706162696c6974696573836c63616c6c2d636f6e74657874696b656570616c69766566676f617761796d6e6f746966696361" +
          "74696f6e7380",
      );
    } finally {
      await peer.close();
      await server.close();
    }
  });

  it("is answered as an unknown method with describe: false", async () => {
    const address = `unix:${join(dir.path, "off.sock")}`;
    const server = await listen(address, { handlers, describe: false });
    const client = await connect<typeof handlers>(address);
    try {
      const error = await client.describe().then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof RemoteError);
      assert.equal(error.code, "ERR_METHOD_NOT_FOUND");
      assert.match(error.message, /does not answer describe requests/);
      assert.equal(await client.call("add", [1, 2]), 3, "the connection goes on");
    } finally {
      await client.close();
      await server.close();
    }
  });

  it("is answered by clients too, unless they connect with describe: false", async () => {
    const address = `unix:${join(dir.path, "both.sock")}`;
    const server = await listen(address, { handlers });
    const open = await connect(address, { handlers: { progress: method({ description: "Job progress" }, () => 0) } });
    const closed = await connect(address, { handlers: { progress: () => 0 }, describe: false });
    try {
      const [toOpen, toClosed] = [...server.connections];
      const described = await toOpen!.describe();
      assert.deepEqual(described.methods, [
        { name: "progress", serviceId: methodId("progress"), kind: "unary", description: "Job progress" },
      ]);
      const refused = await toClosed!.describe().then(() => undefined, (e: unknown) => e);
      assert.equal((refused as RemoteError).code, "ERR_METHOD_NOT_FOUND");
    } finally {
      await Promise.all([open.close(), closed.close()]);
      await server.close();
    }
  });

  it("refuses an answer that is not a description, and a describe option that is not a boolean", async () => {
    const address = `unix:${join(dir.path, "odd.sock")}`;
    const listener = await listenTransport(address);
    const served: Peer[] = [];
    void (async () => {
      for (let transport = await listener.accept(); transport !== null; transport = await listener.accept()) {
        served.push(
          new Peer(transport, {
            onRequest: (request) => void request.respond(0, cborCodec.encode({ methods: "none" })),
          }),
        );
      }
    })();
    const client = await connect(address, { protocol: "fizyr" });
    try {
      const error = await client.describe().then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof RemoteError);
      assert.equal(error.code, "ERR_REMOTE");
      assert.match(error.message, /not a service description: no version/);
      await assert.rejects(
        listen(`unix:${join(dir.path, "bad.sock")}`, { describe: "yes" as never }),
        /Expected describe in the options of listen\(\) to be true or false, found "yes"/,
      );
    } finally {
      await client.close();
      await Promise.all(served.map((peer) => peer.close()));
      await listener.close();
    }
  });
});
