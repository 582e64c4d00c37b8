import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connectTransport, listenTransport, type Message, Peer, type ReceivedRequest } from "../peer.ts";
import type { ByteStream } from "../src/transport/types.ts";
import { tempDir, waitFor } from "./_helpers.ts";
import { connectRawStream, listenRawStream } from "./_raw_sockets.ts";

const hex = (text: string): Uint8Array =>
  new Uint8Array(text.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

const fizyrRequest = concat(hex("17000000 00000000 15000000 00000000"), text("Hello World"));
const fizyrResponse = concat(hex("17000000 01000000 15000000 00000000"), text("Hello World"));
const fizyrError = concat(hex("25000000 01000000 15000000 ffffffff"), text("failed to process request"));

async function readBytes(stream: ByteStream, count: number): Promise<Uint8Array> {
  let received: Uint8Array = new Uint8Array(0);
  while (received.length < count) {
    const chunk = await stream.read();
    if (chunk === null) break;
    received = concat(received, chunk);
  }
  return received;
}

/** A Peer server on a fresh socket that echoes bodies, or fails for the body "fail". */
async function echoPeerServer(address: string): Promise<{ close(): Promise<void> }> {
  const listener = await listenTransport(address);
  const peers: Peer[] = [];
  void (async () => {
    for (let transport = await listener.accept(); transport; transport = await listener.accept()) {
      peers.push(
        new Peer(transport, {
          onRequest: (request: ReceivedRequest) =>
            void (decode(request.body) === "fail"
              ? request.respondError("failed to process request")
              : request.respond(0, request.body)),
        }),
      );
    }
  })();
  return {
    async close() {
      await listener.close();
      await Promise.all(peers.map((peer) => peer.close()));
    },
  };
}

describe("Peer (fizyr-rpc level)", () => {
  it("answers the published fizyr echo request byte for byte", async () => {
    const dir = tempDir();
    const address = `unix:${join(dir.path, "fizyr.sock")}`;
    const server = await echoPeerServer(address);
    const raw = await connectRawStream(address);
    await raw.write(fizyrRequest);
    assert.deepEqual(await readBytes(raw, fizyrResponse.length), fizyrResponse);
    await raw.write(concat(hex("10000000 00000000 15000000 00000000"), text("fail")));
    assert.deepEqual(await readBytes(raw, fizyrError.length), fizyrError);
    await raw.close();
    await server.close();
    dir.cleanup();
  });

  it("sends the published fizyr request bytes", async () => {
    const dir = tempDir();
    const address = `unix:${join(dir.path, "fizyr2.sock")}`;
    const listener = await listenRawStream(address);
    const peer = new Peer(await connectTransport(address), { firstRequestId: 21 });
    const raw = (await listener.accept())!;
    const request = await peer.sendRequest(0, text("Hello World"));
    assert.deepEqual(await readBytes(raw, fizyrRequest.length), fizyrRequest);
    await raw.write(fizyrError);
    const response = await request.response;
    assert.deepEqual(response.header, { type: 1, requestId: 21, serviceId: -1 });
    assert.equal(decode(response.body), "failed to process request");
    await peer.close();
    await raw.close();
    await listener.close();
    dir.cleanup();
  });

  it("carries updates both ways while a request is open, and stream messages", async () => {
    const dir = tempDir();
    const address = `unix:${join(dir.path, "updates.sock")}`;
    const listener = await listenTransport(address);
    const serverStreams: Message[] = [];
    const serverSide = (async () => {
      const peer = new Peer((await listener.accept())!, {
        onStream: (message) => serverStreams.push(message),
        onRequest: (request) =>
          void (async () => {
            await request.sendUpdate(7, text("progress 1"));
            const update = await request.nextUpdate();
            await request.sendUpdate(8, concat(text("ack "), update!.body));
            await request.respond(3, text("finished"));
            await peer.sendStream(42, text("bye"));
          })(),
      });
      await peer.closed;
    })();
    const clientStreams: Message[] = [];
    const client = new Peer(await connectTransport(address), { onStream: (message) => clientStreams.push(message) });
    await client.sendStream(41, text("hello"));
    const request = await client.sendRequest(99, text("start"));
    const first = await request.nextUpdate();
    assert.deepEqual([first!.header.type, first!.header.serviceId, decode(first!.body)], [3, 7, "progress 1"]);
    await request.sendUpdate(9, text("more"));
    const second = await request.nextUpdate();
    assert.deepEqual([second!.header.serviceId, decode(second!.body)], [8, "ack more"]);
    assert.equal(await request.nextUpdate(), null);
    const response = await request.response;
    assert.deepEqual([response.header.serviceId, decode(response.body)], [3, "finished"]);
    await assert.rejects(request.sendUpdate(1, text("late")), { code: "ERR_CLOSED" });
    await waitFor(() => serverStreams.length > 0 && clientStreams.length > 0, "both stream messages arrived");
    assert.deepEqual(
      serverStreams.map((m) => [m.header.type, m.header.requestId, m.header.serviceId, decode(m.body)]),
      [[4, 0, 41, "hello"]],
    );
    assert.deepEqual(clientStreams.map((m) => [m.header.serviceId, decode(m.body)]), [[42, "bye"]]);
    await client.close();
    await serverSide;
    await listener.close();
    dir.cleanup();
  });

  it("answers out of order and wraps request ids at 2^32", async () => {
    const dir = tempDir();
    const address = `unix:${join(dir.path, "order.sock")}`;
    const listener = await listenTransport(address);
    const seenIds: number[] = [];
    const held: ReceivedRequest[] = [];
    const serverSide = (async () => {
      const peer = new Peer((await listener.accept())!, {
        onRequest: (request) => {
          seenIds.push(request.requestId);
          held.push(request);
          if (held.length === 3) { for (const r of [...held].reverse()) void r.respond(0, r.body); }
        },
      });
      await peer.closed;
    })();
    const client = new Peer(await connectTransport(address), { firstRequestId: 0xfffffffe });
    const requests = await Promise.all(["a", "b", "c"].map((body) => client.sendRequest(1, text(body))));
    const order: string[] = [];
    await Promise.all(requests.map((r) => r.response.then((m) => order.push(decode(m.body)))));
    assert.deepEqual(requests.map((r) => r.requestId), [0xfffffffe, 0xffffffff, 0]);
    assert.deepEqual(seenIds, [0xfffffffe, 0xffffffff, 0]);
    assert.deepEqual(order, ["c", "b", "a"]);
    await client.close();
    await serverSide;
    await listener.close();
    dir.cleanup();
  });

  it("answers requests with no handler with an error, and rejects pending requests on close", async () => {
    const dir = tempDir();
    const address = `unix:${join(dir.path, "nohandler.sock")}`;
    const listener = await listenTransport(address);
    let serverPeer: Peer | undefined;
    const accepted = listener.accept().then((t) => (serverPeer = new Peer(t!)));
    const client = new Peer(await connectTransport(address));
    await accepted;
    const response = await (await client.sendRequest(5, text("x"))).response;
    assert.equal(response.header.serviceId, -1);
    assert.match(decode(response.body), /No request handler/);
    const pending = (await client.sendRequest(5, text("y"))).response;
    await serverPeer!.close();
    await assert.rejects(pending, { code: "ERR_CONNECTION_CLOSED" });
    await client.close();
    await listener.close();
    dir.cleanup();
  });
});
