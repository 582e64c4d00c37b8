/**
 * The Peer's bookkeeping that sessions and the RPC layer build on: a cancel
 * for a request still waiting for a handler slot takes it out of the line at
 * once (`cancelKind`, `onCancelQueued`), the open-request counts, the time
 * of the last activity, `whenNoReceived`, and what pending calls see when a
 * session error closes the peer.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  connectTransport,
  listenTransport,
  Peer,
  type PeerOptions,
  type ReceivedRequest,
  type SentRequest,
} from "../peer.ts";
import { ConnectionClosedError, SessionError, UsageError } from "../src/base/errors.ts";
import { tempDir, waitFor } from "./_helpers.ts";

const CANCEL = -1;
const empty = new Uint8Array(0);
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

const dir = tempDir();
after(() => dir.cleanup());
let socketCount = 0;

/** A server Peer with `options` and a client Peer connected to it over a Unix socket. */
async function peers(options: PeerOptions): Promise<{ server: Peer; client: Peer; close(): Promise<void> }> {
  const listener = await listenTransport(`unix:${join(dir.path, `cancel-${socketCount++}.sock`)}`);
  const client = new Peer(await connectTransport(listener.address));
  const server = new Peer((await listener.accept())!, options);
  return {
    server,
    client,
    async close() {
      await client.close();
      await server.close();
      await listener.close();
    },
  };
}

/** A handler that keeps the first request (the busy slot) until released, and echoes the others. */
function holdFirst(): { onRequest: (request: ReceivedRequest) => void; started: string[]; release(): void } {
  const started: string[] = [];
  let held: ReceivedRequest | undefined;
  return {
    started,
    onRequest(request) {
      started.push(decode(request.body));
      if (held === undefined && started.length === 1) held = request;
      else void request.respond(0, request.body);
    },
    release() {
      void held?.respond(0, held.body);
    },
  };
}

describe("a cancel for a request waiting for a handler slot", () => {
  it("calls onCancelQueued at once, before the busy slot frees, and the request never starts", async () => {
    const handler = holdFirst();
    const cancelled: string[] = [];
    const { server, client, close } = await peers({
      maxConcurrentRequests: 1,
      cancelKind: CANCEL,
      onRequest: handler.onRequest,
      onCancelQueued: (request) => {
        cancelled.push(decode(request.body));
        void request.respond(-2, text("cancelled"));
      },
    });
    try {
      const busy = await client.sendRequest(1, text("busy"));
      const queued = await client.sendRequest(1, text("queued"));
      const after = await client.sendRequest(1, text("after"));
      await waitFor(() => server.openReceived === 3, "the server holds all three requests");
      assert.deepEqual(handler.started, ["busy"]);

      await queued.sendUpdate(CANCEL, empty);
      const answer = await queued.response;
      assert.equal(answer.header.serviceId, -2);
      assert.equal(decode(answer.body), "cancelled");
      assert.deepEqual(cancelled, ["queued"]);
      // The busy slot is still taken: the answer came from the line, not from a handler.
      assert.deepEqual(handler.started, ["busy"]);
      await waitFor(() => server.openReceived === 2, "the cancelled request no longer counts");

      handler.release();
      assert.equal(decode((await busy.response).body), "busy");
      assert.equal(decode((await after.response).body), "after");
      assert.deepEqual(handler.started, ["busy", "after"], "the cancelled request never started");
      await waitFor(() => server.openReceived === 0, "every request is answered");
      assert.equal(client.openSent, 0);
    } finally {
      await close();
    }
  });

  it("leaves running requests to their handler: their cancel is an update like any other", async () => {
    const updates: number[] = [];
    const { client, close } = await peers({
      maxConcurrentRequests: 1,
      cancelKind: CANCEL,
      onRequest: (request) =>
        void (async () => {
          const update = await request.nextUpdate();
          updates.push(update!.header.serviceId);
          await request.respond(0, empty);
        })(),
      onCancelQueued: () => assert.fail("a running request is not in the line"),
    });
    try {
      const running = await client.sendRequest(1, empty);
      await running.sendUpdate(CANCEL, empty);
      await running.response;
      assert.deepEqual(updates, [CANCEL]);
    } finally {
      await close();
    }
  });

  it("answers with a status -1 error when there is no onCancelQueued", async () => {
    const handler = holdFirst();
    const { client, close } = await peers({
      maxConcurrentRequests: 1,
      cancelKind: CANCEL,
      onRequest: handler.onRequest,
    });
    try {
      await client.sendRequest(1, text("busy"));
      const queued = await client.sendRequest(1, text("queued"));
      await queued.sendUpdate(CANCEL, empty);
      const answer = await queued.response;
      assert.equal(answer.header.serviceId, -1);
      assert.match(decode(answer.body), /cancelled before it started/);
      assert.deepEqual(handler.started, ["busy"]);
      handler.release();
    } finally {
      await close();
    }
  });

  it("without cancelKind, a queued request's updates wait for it like before", async () => {
    const handler = holdFirst();
    const { server, client, close } = await peers({ maxConcurrentRequests: 1, onRequest: handler.onRequest });
    try {
      const busy = await client.sendRequest(1, text("busy"));
      const queued = await client.sendRequest(1, text("queued"));
      await queued.sendUpdate(CANCEL, empty);
      await waitFor(() => server.flow.bufferedBytes === "queued".length, "the queued request and its update are read");
      handler.release();
      await busy.response;
      assert.equal(decode((await queued.response).body), "queued");
      assert.deepEqual(handler.started, ["busy", "queued"]);
    } finally {
      await close();
    }
  });

  it("takes 10,000 queued requests out of the line, all of them, and counts stay right", async () => {
    const COUNT = 10_000;
    const handler = holdFirst();
    let cancelled = 0;
    const { server, client, close } = await peers({
      maxConcurrentRequests: 1,
      cancelKind: CANCEL,
      onRequest: handler.onRequest,
      onCancelQueued: (request) => {
        cancelled++;
        void request.respond(-2, empty);
      },
    });
    try {
      const busy = await client.sendRequest(1, text("busy"));
      const queued: SentRequest[] = [];
      for (let i = 0; i < COUNT; i++) queued.push(await client.sendRequest(1, text(`q${i}`)));
      await waitFor(() => server.openReceived === COUNT + 1, "every request is in the line", 30_000);
      // Cancel newest first: each one is found at once, wherever it is in the line.
      await Promise.all([...queued].reverse().map((request) => request.sendUpdate(CANCEL, empty)));
      const answers = await Promise.all(queued.map((request) => request.response));
      assert.ok(answers.every((answer) => answer.header.serviceId === -2));
      assert.equal(cancelled, COUNT);
      await waitFor(() => server.openReceived === 1, "only the busy request is open");
      assert.equal(server.flow.bufferedBytes, 0, "the line no longer counts against maxBufferedBytes");
      handler.release();
      await busy.response;
      assert.deepEqual(handler.started, ["busy"]);
      await waitFor(() => server.openReceived === 0, "nothing is open");
    } finally {
      await close();
    }
  });

  it("checks cancelKind and onCancelQueued where they enter", async () => {
    const listener = await listenTransport(`unix:${join(dir.path, `options-${socketCount++}.sock`)}`);
    const transport = await connectTransport(listener.address);
    try {
      for (const options of [{ cancelKind: 2 ** 31 }, { cancelKind: -(2 ** 31) - 1 }, { cancelKind: 0.5 }]) {
        assert.throws(
          () => new Peer(transport, options),
          (error: unknown) =>
            error instanceof UsageError && error.code === "ERR_INVALID_ARGUMENT" && /cancelKind/.test(error.message) &&
            /-2147483648 to 2147483647/.test(error.message),
        );
      }
      assert.throws(
        () => new Peer(transport, { onCancelQueued: 1 as unknown as () => void }),
        (error: unknown) => error instanceof UsageError && /onCancelQueued/.test(error.message),
      );
    } finally {
      await transport.close();
      await listener.close();
    }
  });
});

describe("a Peer's open requests and activity", () => {
  it("counts sent and received requests, and resolves whenNoReceived once every one is answered", async () => {
    const handler = holdFirst();
    const { server, client, close } = await peers({ onRequest: handler.onRequest });
    try {
      await server.whenNoReceived();
      assert.equal(client.openSent, 0);
      const before = client.lastActivity;
      await new Promise((resolve) => setTimeout(resolve, 5));
      const busy = await client.sendRequest(1, text("busy"));
      assert.ok(client.lastActivity > before, "sending a request is activity");
      assert.equal(client.openSent, 1);
      await waitFor(() => server.openReceived === 1, "the server holds the request");
      const serverActivity = server.lastActivity;
      let drained = false;
      const whenDrained = server.whenNoReceived().then(() => (drained = true));
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(drained, false);
      handler.release();
      await whenDrained;
      assert.equal(server.openReceived, 0);
      await busy.response;
      assert.equal(client.openSent, 0);
      assert.ok(server.lastActivity >= serverActivity);
    } finally {
      await close();
    }
  });

  it("resolves whenNoReceived when the peer closes with requests still open", async () => {
    const handler = holdFirst();
    const { server, client, close } = await peers({ onRequest: handler.onRequest });
    try {
      await client.sendRequest(1, text("busy"));
      await waitFor(() => server.openReceived === 1, "the server holds the request");
      const drained = server.whenNoReceived();
      await server.close();
      await drained;
      assert.equal(server.openReceived, 0);
    } finally {
      await close();
    }
  });
});

describe("the error that closes a Peer", () => {
  it("is what pending calls reject with when it is a SessionError", async () => {
    const { client, close } = await peers({ onRequest: () => {} });
    try {
      const pending = await client.sendRequest(1, empty);
      const error = new SessionError("ERR_SERVER_CLOSING", "The server is shutting down");
      await client.close(error);
      await assert.rejects(pending.response, (rejected: unknown) => rejected === error);
      await assert.rejects(client.sendRequest(1, empty), (rejected: unknown) => rejected === error);
    } finally {
      await close();
    }
  });

  it("is the cause of a ConnectionClosedError otherwise", async () => {
    const { client, close } = await peers({ onRequest: () => {} });
    try {
      const pending = await client.sendRequest(1, empty);
      const error = new Error("something else");
      await client.close(error);
      await assert.rejects(
        pending.response,
        (rejected: unknown) =>
          rejected instanceof ConnectionClosedError && rejected.code === "ERR_CONNECTION_CLOSED" &&
          rejected.cause === error,
      );
    } finally {
      await close();
    }
  });
});
