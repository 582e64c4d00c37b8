import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect, listen, type PeerlinkError, type RpcServer } from "../mod.ts";
import { cborCodec, connectTransport, listenTransport, Peer, type PeerOptions, transportPair } from "../peer.ts";
import { tempDir } from "./_helpers.ts";

/** A label for the test name, the options as given, and what the error message must say. */
type Case = [label: string, options: unknown, message: RegExp];

const noop = (): void => {};

/** Options of `listen` and `connect` alike. */
const rpcCases: Case[] = [
  [
    "maxConcurrentRequests: 0",
    { maxConcurrentRequests: 0 },
    /maxConcurrentRequests .* an integer from 1 to 4294967295, found 0$/,
  ],
  ["maxConcurrentRequests: 2.5", { maxConcurrentRequests: 2.5 }, /maxConcurrentRequests .* found 2\.5$/],
  [
    "maxBufferedBytes: -1",
    { maxBufferedBytes: -1 },
    /maxBufferedBytes .* an integer from 0 to 9007199254740991, found -1$/,
  ],
  ["maxBufferedBytes: a string", { maxBufferedBytes: "1024" }, /maxBufferedBytes .* found "1024"$/],
  ["maxMessageSize: 5", { maxMessageSize: 5 }, /maxMessageSize .* an integer from 12 to 4294967295, found 5$/],
  ["maxMessageSize: 2^32", { maxMessageSize: 2 ** 32 }, /maxMessageSize .* found 4294967296$/],
  ["maxMessageSize: NaN", { maxMessageSize: NaN }, /maxMessageSize .* found NaN$/],
  ["maxPacketSize: 0", { maxPacketSize: 0 }, /maxPacketSize .* an integer from 12 to 2147483615, found 0$/],
  ["maxPacketSize: 11", { maxPacketSize: 11 }, /maxPacketSize .* found 11$/],
  ["maxPacketSize: 2^31 - 32", { maxPacketSize: 2 ** 31 - 32 }, /maxPacketSize .* found 2147483616$/],
  ["maxFds: 254", { maxFds: 254 }, /maxFds .* an integer from 0 to 253, found 254$/],
  ["maxFds: -1", { maxFds: -1 }, /maxFds .* found -1$/],
  ["a handler that is a number", { handlers: { add: 3 } }, /handlers\.add .* a function, found 3$/],
  [
    "a handler whose name is not an identifier",
    { handlers: { "two words": null } },
    /handlers\["two words"\] .* a function, found null$/,
  ],
  ["handlers: an array", { handlers: [noop] }, /handlers .* an object, found an array$/],
  [
    "a notification listener that is a string",
    { notifications: { log: "no" } },
    /notifications\.log .* a function, found "no"$/,
  ],
  [
    "a service id of 1.5",
    { serviceIds: { echo: 1.5 } },
    /serviceIds\.echo .* an integer from -2147483648 to 2147483647, found 1\.5$/,
  ],
  ["a service id of 2^31", { serviceIds: { echo: 2 ** 31 } }, /serviceIds\.echo .* found 2147483648$/],
  [
    "a codec without decode",
    { codec: { name: "half", encode: () => new Uint8Array(0) } },
    /codec\.decode .* a function, found undefined$/,
  ],
  ["codec: a string", { codec: "cbor" }, /codec .* an object with encode and decode, found "cbor"$/],
  ["handshake: true", { handshake: true }, /handshake .* a function, found true$/],
  [
    "a misspelt option",
    { maxConcurentRequests: 4 },
    /Unknown option "maxConcurentRequests" .*; did you mean "maxConcurrentRequests"\?$/,
  ],
  ["options: null", null, /Expected the options of \w+\(\) to be an object, found null$/],
  ["options: a number", 5, /Expected the options of \w+\(\) to be an object, found 5$/],
];

const listenCases: Case[] = [
  ...rpcCases,
  ["mode: 1.5", { mode: 1.5 }, /mode .* an integer from 0 to 4095, found 1\.5$/],
  ["mode: 0o10000", { mode: 0o10000 }, /mode .* found 4096$/],
  ["backlog: 0", { backlog: 0 }, /backlog .* an integer from 1 to 65535, found 0$/],
  ["accept: true", { accept: true }, /accept .* a function, found true$/],
  ["onError: 1", { onError: 1 }, /onError .* a function, found 1$/],
  ["onConnection: an object", { onConnection: {} }, /onConnection .* a function, found an object$/],
  [
    "onClose, which is an option of connect",
    { onClose: noop },
    /Option "onClose" is not an option of listen\(\); connect\(\) take it$/,
  ],
];

const connectCases: Case[] = [
  ...rpcCases,
  ["onClose: a string", { onClose: "later" }, /onClose .* a function, found "later"$/],
  [
    "mode, which is an option of listen",
    { mode: 0o600 },
    /Option "mode" is not an option of connect\(\); listen\(\), listenTransport\(\) take it$/,
  ],
  [
    "accept, which is an option of listen",
    { accept: noop },
    /Option "accept" is not an option of connect\(\); listen\(\) take it$/,
  ],
  ["router, which is not public", { router: {} }, /Unknown option "router" in the options of connect\(\)/],
];

const listenTransportCases: Case[] = [
  ["maxFds: 254", { maxFds: 254 }, /maxFds .* found 254$/],
  ["maxMessageSize: 11", { maxMessageSize: 11 }, /maxMessageSize .* from 12 .* found 11$/],
  ["mode: -1", { mode: -1 }, /mode .* found -1$/],
  ["backlog: 65536", { backlog: 65536 }, /backlog .* found 65536$/],
  [
    "handlers, which belong to listen",
    { handlers: {} },
    /Option "handlers" is not an option of listenTransport\(\); listen\(\), connect\(\) take it$/,
  ],
  ["options: a string", "fast", /options of listenTransport\(\) to be an object, found "fast"$/],
  [
    "handshakeTimeout, which bounds a TLS handshake",
    { handshakeTimeout: 1000 },
    /"handshakeTimeout" of listenTransport\(\) bounds a TLS handshake and applies to tls:\/\/ addresses only/,
  ],
];

const connectTransportCases: Case[] = [
  ["maxPacketSize: 1.5", { maxPacketSize: 1.5 }, /maxPacketSize .* found 1\.5$/],
  ["maxMessageSize: 0", { maxMessageSize: 0 }, /maxMessageSize .* found 0$/],
  [
    "backlog, which is for listening",
    { backlog: 1 },
    /Option "backlog" is not an option of connectTransport\(\); listen\(\), listenTransport\(\) take it$/,
  ],
  ["a misspelt maxFds", { maxFd: 2 }, /Unknown option "maxFd" .*; did you mean "maxFds"\?$/],
];

function refusal(message: RegExp): { name: string; code: string; message: RegExp } {
  return { name: "UsageError", code: "ERR_INVALID_ARGUMENT", message };
}

for (const scheme of ["unix", "seqpacket"] as const) {
  describe(`options of ${scheme}: addresses, checked before anything is opened`, () => {
    const dir = tempDir();
    const refusedPath = join(dir.path, "refused.sock");
    const serverAddress = `${scheme}:${join(dir.path, "server.sock")}`;
    let server: RpcServer;
    let connections = 0;

    before(async () => {
      server = await listen(serverAddress, {
        handlers: { echo: (value: unknown) => value },
        onConnection: () => connections++,
      });
    });

    after(async () => {
      await server.close();
      dir.cleanup();
    });

    for (const [label, options, message] of listenCases) {
      it(`listen refuses ${label}, leaving no socket file`, async () => {
        await assert.rejects(listen(`${scheme}:${refusedPath}`, options as never), refusal(message));
        assert.equal(existsSync(refusedPath), false);
      });
    }

    for (const [label, options, message] of listenTransportCases) {
      it(`listenTransport refuses ${label}, leaving no socket file`, async () => {
        await assert.rejects(listenTransport(`${scheme}:${refusedPath}`, options as never), refusal(message));
        assert.equal(existsSync(refusedPath), false);
      });
    }

    for (const [label, options, message] of connectCases) {
      it(`connect refuses ${label}`, async () => {
        await assert.rejects(connect(serverAddress, options as never), refusal(message));
      });
    }

    for (const [label, options, message] of connectTransportCases) {
      it(`connectTransport refuses ${label}`, async () => {
        await assert.rejects(connectTransport(serverAddress, options as never), refusal(message));
      });
    }

    it("checks inherited options too, and reports a getter that throws", async () => {
      const inherited = Object.create({ maxMessageSize: Number.NaN });
      await assert.rejects(listen(`${scheme}:${refusedPath}`, inherited), refusal(/maxMessageSize .* found NaN$/));
      await assert.rejects(connect(serverAddress, inherited), refusal(/maxMessageSize .* found NaN$/));
      const throwing = {
        get maxFds(): number {
          throw new Error("getter boom");
        },
      };
      await assert.rejects(connect(serverAddress, throwing), (error: Error) => {
        assert.equal((error as PeerlinkError).code, "ERR_INVALID_ARGUMENT");
        assert.match(error.message, /Reading maxFds in the options of connect\(\) threw/);
        assert.equal((error.cause as Error).message, "getter boom");
        return true;
      });
      assert.equal(existsSync(refusedPath), false);
    });

    it("reads each option once: changing the options object after listen() changes nothing", async () => {
      const address = `${scheme}:${join(dir.path, "snapshot.sock")}`;
      const options = { handlers: { echo: (value: unknown) => value }, maxConcurrentRequests: 4 };
      const server = await listen(address, options);
      options.maxConcurrentRequests = 0;
      const client = await connect(address);
      assert.equal(await client.call("echo", "still served", { timeout: 5000 }), "still served");
      await client.close();
      await server.close();
    });

    it("opened no connection and left no file for any refused option", async () => {
      const client = await connect(serverAddress);
      assert.equal(await client.call("echo", "first"), "first");
      // The server accepts in order: a refused connect that had connected would have been counted before this one.
      assert.equal(connections, 1);
      assert.deepEqual(readdirSync(dir.path), ["server.sock"]);
      await client.close();
    });

    it("accepts every option listen and connect know, at the ends of their ranges and as undefined", async () => {
      const address = `${scheme}:${join(dir.path, "every.sock")}`;
      const hooks: string[] = [];
      const everything = {
        maxMessageSize: 1024 * 1024,
        maxPacketSize: 64 * 1024,
        maxFds: 0,
        maxConcurrentRequests: 1,
        maxBufferedBytes: 0,
        // The lowest id a method may have: below it, 256 ids are reserved for peerlink sessions.
        serviceIds: { echo: -0x80000000 + 256, spare: 0x7fffffff },
        codec: cborCodec,
        handshake: async () => void hooks.push("handshake"),
      };
      const every = await listen(address, {
        ...everything,
        handlers: { echo: (value: unknown) => value },
        notifications: { log: noop },
        mode: 0o600,
        backlog: 1,
        accept: () => true,
        onError: noop,
        onConnection: () => void hooks.push("connection"),
      });
      const client = await connect(address, {
        ...everything,
        maxMessageSize: undefined,
        handlers: {},
        notifications: {},
        onClose: () => void hooks.push("close"),
      } as never);
      assert.deepEqual(await client.call("echo", [1, "two"]), [1, "two"]);
      await client.close();
      await every.close();
      assert.deepEqual(hooks.sort(), ["close", "connection", "handshake", "handshake"]);
    });

    it("accepts every option listenTransport and connectTransport know", async () => {
      const address = `${scheme}:${join(dir.path, "transport.sock")}`;
      const limits = { maxMessageSize: 12, maxPacketSize: 12, maxFds: 253 };
      const listener = await listenTransport(address, { ...limits, mode: 0o7777, backlog: 65535 });
      const transport = await connectTransport(address, limits);
      const accepted = (await listener.accept())!;
      assert.ok(accepted);
      await Promise.all([transport.close(), accepted.close(), listener.close()]);
    });
  });
}

describe("options of transportPair and new Peer", () => {
  const pairCases: Case[] = [
    ["maxPacketSize: 0", { maxPacketSize: 0 }, /maxPacketSize .* found 0$/],
    ["maxFds: 254", { maxFds: 254 }, /maxFds .* an integer from 0 to 253, found 254$/],
    [
      "maxMessageSize, which only byte streams have",
      { maxMessageSize: 100 },
      /Option "maxMessageSize" is not an option of transportPair\(\); listen\(\), connect\(\), listenTransport\(\), connectTransport\(\) take it$/,
    ],
    ["options: null", null, /options of transportPair\(\) to be an object, found null$/],
  ];
  for (const [label, options, message] of pairCases) {
    it(`transportPair refuses ${label}`, async () => {
      await assert.rejects(transportPair(options as never), refusal(message));
    });
  }

  const peerCases: Case[] = [
    [
      "maxConcurrentRequests: 0",
      { maxConcurrentRequests: 0 },
      /maxConcurrentRequests in the options of new Peer\(\) .* found 0$/,
    ],
    ["maxBufferedBytes: -1", { maxBufferedBytes: -1 }, /maxBufferedBytes .* found -1$/],
    ["firstRequestId: -1", { firstRequestId: -1 }, /firstRequestId .* an integer from 0 to 4294967295, found -1$/],
    ["firstRequestId: 2^32", { firstRequestId: 2 ** 32 }, /firstRequestId .* found 4294967296$/],
    ["onRequest: 1", { onRequest: 1 }, /onRequest .* a function, found 1$/],
    ["onStream: a string", { onStream: "x" }, /onStream .* a function, found "x"$/],
    ["onClose: null", { onClose: null }, /onClose .* a function, found null$/],
    ["a misspelt onRequest", { onrequest: noop }, /Unknown option "onrequest" .*; did you mean "onRequest"\?$/],
    ["options: null", null, /options of new Peer\(\) to be an object, found null$/],
  ];
  for (const [label, options, message] of peerCases) {
    it(`new Peer refuses ${label} and leaves the transport to the caller`, async () => {
      const [a, b] = await transportPair();
      assert.throws(() => new Peer(a, options as PeerOptions), refusal(message));
      // The transport was not taken: a Peer made next works on it.
      const left = new Peer(a, { onRequest: (request) => void request.respond(0, request.body) });
      const right = new Peer(b);
      const request = await right.sendRequest(1, new Uint8Array([7]));
      assert.deepEqual([...(await request.response).body], [7]);
      await Promise.all([left.close(), right.close()]);
    });
  }

  it("accepts every option transportPair and new Peer know", async () => {
    const [a, b] = await transportPair({ maxPacketSize: 2 ** 20, maxFds: 0 });
    const closed: unknown[] = [];
    const left = new Peer(a, {
      onRequest: (request) => void request.respond(0, request.body),
      onStream: noop,
      onClose: (error) => closed.push(error),
      firstRequestId: 0xffffffff,
      maxConcurrentRequests: 0xffffffff,
      maxBufferedBytes: Number.MAX_SAFE_INTEGER,
    });
    const right = new Peer(b, { firstRequestId: 0, maxConcurrentRequests: undefined } as never);
    const request = await right.sendRequest(1, new Uint8Array([1, 2]));
    assert.equal(request.requestId, 0);
    assert.deepEqual([...(await request.response).body], [1, 2]);
    await Promise.all([left.close(), right.close()]);
    assert.deepEqual(closed, [undefined]);
  });
});
