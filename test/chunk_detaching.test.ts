/**
 * Chunk detaching from the socket to the frame decoder, on real sockets of
 * the runtime running the tests: each adapter's streams say whether their
 * chunks may be detached (`ByteStream.chunksDetachable`: Node's `node:net`
 * and `node:tls` sockets and Bun's native ones do, Deno's do not), and
 * `StreamMessageTransport` hands that to its decoder. A recording stream
 * between the adapter's stream and the transport keeps every chunk the
 * transport read, so the test sees which of them were detached once a
 * 1 MiB message was received: on Node and Bun every chunk of 16 KiB or more
 * that was a whole buffer, on Deno none, and never a chunk that was a view
 * of a larger buffer (Node's TLS chunks are 16 KiB views of 64 KiB ones).
 * The decoder's own rules are tested in `framing.test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { generateCertificate } from "../mod.ts";
import { loadRuntimeAdapter } from "../adapters/detect.ts";
import { MessageType } from "../peer.ts";
import { type InetAddress, parseUnixAddress } from "../src/transport/address.ts";
import { StreamMessageTransport } from "../src/transport/stream_transport.ts";
import type { ByteStream, ConnectionInfo, Listener } from "../src/transport/types.ts";
import { encodeFrame } from "../src/wire/frame_encoder.ts";
import { runtimeName, tempDir } from "./_helpers.ts";

const runtime = await loadRuntimeAdapter();
const certificate = await generateCertificate();
const dir = tempDir();
after(() => dir.cleanup());

/** Whether this runtime's stream sockets say their chunks are detachable. */
const detaching = runtimeName !== "deno";
/** The decoder detaches chunks of at least this many bytes (`DETACH_MIN` in `src/wire/frame_decoder.ts`). */
const DETACH_MIN = 16 * 1024;
const BODY_SIZE = 1 << 20;

/** One chunk a stream's `read` returned, and whether it spanned its whole buffer then. */
interface ReadChunk {
  chunk: Uint8Array;
  length: number;
  whole: boolean;
}

/** An adapter's stream with every chunk it reads kept; `chunksDetachable` is the adapter's unless overridden. */
class RecordingStream implements ByteStream {
  readonly chunks: ReadChunk[] = [];
  readonly chunksDetachable: boolean;
  readonly #inner: ByteStream;

  constructor(inner: ByteStream, chunksDetachable = inner.chunksDetachable === true) {
    this.#inner = inner;
    this.chunksDetachable = chunksDetachable;
  }

  get info(): ConnectionInfo {
    return this.#inner.info;
  }

  async read(): Promise<Uint8Array | null> {
    const chunk = await this.#inner.read();
    if (chunk !== null) {
      this.chunks.push({
        chunk,
        length: chunk.length,
        whole: chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength,
      });
    }
    return chunk;
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.#inner.write(chunk);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** A connected pair of raw streams of one kind: the accepted one and the connecting one. */
interface StreamPair {
  accepted: ByteStream;
  connecting: ByteStream;
  listener: Listener<ByteStream>;
}

const kinds: { name: string; open(): Promise<StreamPair> }[] = [
  {
    name: "unix:",
    async open() {
      const address = parseUnixAddress(`unix:${join(dir.path, `detach-${Math.random()}.sock`)}`);
      const listener = await runtime.listenStream(address, {});
      const connecting = await runtime.connectStream(address);
      return { accepted: (await listener.accept())!, connecting, listener };
    },
  },
  {
    name: "tcp://",
    async open() {
      const listener = await runtime.listenTcp({ transport: "tcp", host: "127.0.0.1", port: 0 }, { noDelay: true });
      const connecting = await runtime.connectTcp(inetOf(listener, "tcp"), { noDelay: true, timeout: 5000 });
      return { accepted: (await listener.accept())!, connecting, listener };
    },
  },
  {
    name: "tls://",
    async open() {
      const listener = await runtime.listenTcp(
        { transport: "tls", host: "127.0.0.1", port: 0 },
        { noDelay: true, tls: { cert: certificate.cert, key: certificate.key } },
      );
      const connecting = await runtime.connectTcp(inetOf(listener, "tls"), {
        noDelay: true,
        timeout: 5000,
        tls: { pin: certificate.fingerprint256, serverName: "localhost", checkServerName: false },
      });
      return { accepted: (await listener.accept())!, connecting, listener };
    },
  },
];

/** Where a TCP listener listens. */
function inetOf(listener: Listener<ByteStream>, transport: "tcp" | "tls"): InetAddress {
  return { transport, host: "127.0.0.1", port: Number(listener.address.slice(listener.address.lastIndexOf(":") + 1)) };
}

/** A body whose bytes depend on their place, so that a byte out of place or lost is seen. */
function patterned(size: number): Uint8Array {
  const body = new Uint8Array(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31 + (i >>> 11)) & 0xff;
  return body;
}

/**
 * Sends one 1 MiB message from the connecting stream and receives it
 * through a transport over the recorded accepted stream.
 *
 * @returns The recorded chunks, after the message was received and checked.
 */
async function receiveLarge(pair: StreamPair, recorded: RecordingStream): Promise<ReadChunk[]> {
  const transport = new StreamMessageTransport(recorded);
  try {
    const body = patterned(BODY_SIZE);
    const frame = encodeFrame({ type: MessageType.Request, requestId: 1, serviceId: 3 }, body);
    const written = pair.connecting.write(frame);
    const message = await transport.receive();
    await written;
    assert.ok(message !== null, "the message arrived");
    assert.equal(message.header.requestId, 1);
    assert.equal(message.body.length, BODY_SIZE);
    assert.ok(Buffer.from(message.body).equals(Buffer.from(body)), "the body arrived intact");
    assert.ok(recorded.chunks.length > 1, `the message came in ${recorded.chunks.length} chunks`);
    return recorded.chunks;
  } finally {
    await transport.close();
    await pair.connecting.close();
    await pair.listener.close();
  }
}

/** The recorded chunks whose buffer is now detached (zero bytes long). */
const detached = (chunks: ReadChunk[]): ReadChunk[] => chunks.filter(({ chunk }) => chunk.buffer.byteLength === 0);

for (const kind of kinds) {
  describe(`chunk detaching over ${kind.name}`, () => {
    it(`the adapter's streams say ${detaching ? "" : "not "}detachable, and the transport acts on it`, async () => {
      const pair = await kind.open();
      assert.equal(pair.accepted.chunksDetachable === true, detaching, "the accepted stream");
      assert.equal(pair.connecting.chunksDetachable === true, detaching, "the connecting stream");
      const chunks = await receiveLarge(pair, new RecordingStream(pair.accepted));
      const large = chunks.filter(({ whole, length }) => whole && length >= DETACH_MIN);
      if (detaching) {
        assert.ok(large.length > 0 || kind.name === "tls://", "whole chunks of 16 KiB or more were read");
        for (const [i, entry] of large.entries()) {
          assert.equal(entry.chunk.buffer.byteLength, 0, `whole chunk ${i} of ${entry.length} bytes is detached`);
        }
      }
      const expected = detaching ? large : [];
      assert.deepEqual(detached(chunks), expected, "exactly these chunks are detached");
      for (const { chunk, whole } of chunks) {
        if (!whole) assert.ok(chunk.buffer.byteLength > 0, "a view of a larger buffer is never detached");
      }
    });

    it("a stream that does not say its chunks are detachable keeps every chunk", async () => {
      const pair = await kind.open();
      const chunks = await receiveLarge(pair, new RecordingStream(pair.accepted, false));
      assert.deepEqual(detached(chunks), [], "no chunk is detached");
      assert.ok(chunks.every(({ chunk, length }) => chunk.length === length), "every chunk keeps its bytes");
    });
  });
}
