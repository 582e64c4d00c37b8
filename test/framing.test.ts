import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encode as cborEncode } from "cborg";
import { ProtocolError } from "../mod.ts";
import { cborCodec, MessageType, methodId } from "../peer.ts";
import { FrameDecoder } from "../src/wire/frame_decoder.ts";
import { encodeFrame } from "../src/wire/frame_encoder.ts";
import { readHeader } from "../src/wire/message.ts";

const hex = (text: string): Uint8Array =>
  new Uint8Array(text.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
};

// The published fizyr-rpc test vectors (echo request, response, error response).
const fizyrRequest = concat(hex("17000000 00000000 15000000 00000000"), ascii("Hello World"));
const fizyrResponse = concat(hex("17000000 01000000 15000000 00000000"), ascii("Hello World"));
const fizyrError = concat(hex("25000000 01000000 15000000 ffffffff"), ascii("failed to process request"));

function frameOf(type: MessageType, requestId: number, serviceId: number, body: Uint8Array): Uint8Array {
  return encodeFrame({ type, requestId, serviceId }, body);
}

describe("fizyr-rpc test vectors", () => {
  it("encodes the echo request, response and error response byte for byte", () => {
    assert.deepEqual(frameOf(MessageType.Request, 21, 0, ascii("Hello World")), fizyrRequest);
    assert.deepEqual(frameOf(MessageType.Response, 21, 0, ascii("Hello World")), fizyrResponse);
    assert.deepEqual(frameOf(MessageType.Response, 21, -1, ascii("failed to process request")), fizyrError);
  });

  it("decodes them into header and body", () => {
    const decoder = new FrameDecoder();
    decoder.push(concat(fizyrRequest, fizyrResponse, fizyrError));
    const frames = [decoder.next(), decoder.next(), decoder.next()];
    assert.equal(decoder.next(), null);
    const headers = frames.map((frame) => readHeader(frame!));
    assert.deepEqual(headers, [
      { type: MessageType.Request, requestId: 21, serviceId: 0 },
      { type: MessageType.Response, requestId: 21, serviceId: 0 },
      { type: MessageType.Response, requestId: 21, serviceId: -1 },
    ]);
    assert.equal(new TextDecoder().decode(frames[2]!.subarray(12)), "failed to process request");
  });
});

describe("FrameDecoder", () => {
  const stream = concat(
    frameOf(MessageType.Request, 1, 7, ascii("a")),
    frameOf(MessageType.Stream, 0, 9, new Uint8Array(0)),
    frameOf(MessageType.ResponderUpdate, 0xffffffff, -5, new Uint8Array(70000).fill(3)),
  );

  function decodeAll(chunks: Uint8Array[]): Uint8Array[] {
    const decoder = new FrameDecoder();
    const frames: Uint8Array[] = [];
    for (const chunk of chunks) {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== null; frame = decoder.next()) frames.push(frame);
    }
    assert.equal(decoder.hasPartialFrame, false);
    return frames;
  }

  it("gives the same frames for any chunking", () => {
    const whole = decodeAll([stream]);
    assert.equal(whole.length, 3);
    const byteByByte = decodeAll([...stream].map((byte) => new Uint8Array([byte])));
    assert.deepEqual(byteByByte, whole);
    for (const size of [2, 3, 5, 13, 4096]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
      assert.deepEqual(decodeAll(chunks), whole, `chunk size ${size}`);
    }
    assert.deepEqual(readHeader(whole[2]!), {
      type: MessageType.ResponderUpdate,
      requestId: 0xffffffff,
      serviceId: -5,
    });
    assert.equal(whole[2]!.length, 12 + 70000);
  });

  it("gives the same frames for a stream cut in two at every byte", () => {
    // Bodies around the 4 KiB line between chunks that are kept and chunks that are gathered.
    const small = concat(
      frameOf(MessageType.Request, 1, 7, new Uint8Array(0)),
      frameOf(MessageType.Stream, 0, 9, ascii("x")),
      frameOf(MessageType.Response, 2, 0, new Uint8Array(5000).map((_, i) => i)),
      frameOf(MessageType.RequesterUpdate, 3, 1, ascii("last")),
    );
    const whole = decodeAll([small]);
    assert.equal(whole.length, 4);
    for (let cut = 0; cut <= small.length; cut++) {
      assert.deepEqual(decodeAll([small.subarray(0, cut), small.subarray(cut)]), whole, `cut at byte ${cut}`);
    }
  });

  it("gives the same frames for chunks of mixed sizes, small ones behind large ones", () => {
    const whole = decodeAll([stream]);
    const sizes = [1, 4095, 4096, 3, 20000, 2, 9000, 1];
    const chunks: Uint8Array[] = [];
    for (let i = 0, n = 0; i < stream.length; i += sizes[n++ % sizes.length]!) {
      chunks.push(stream.slice(i, i + sizes[n % sizes.length]!));
    }
    assert.deepEqual(decodeAll(chunks), whole);
  });

  it("decodes many frames from one chunk, in order", () => {
    const frames = Array.from({ length: 1000 }, (_, i) => frameOf(MessageType.Stream, 0, i, ascii(String(i))));
    const decoded = decodeAll([concat(...frames)]);
    assert.equal(decoded.length, 1000);
    decoded.forEach((frame, i) => {
      assert.equal(readHeader(frame).serviceId, i);
      assert.equal(new TextDecoder().decode(frame.subarray(12)), String(i));
    });
  });

  it("takes a large frame pushed one byte at a time in linear time", () => {
    const body = new Uint8Array(256 * 1024).map((_, i) => i * 7);
    const bytes = frameOf(MessageType.Request, 1, 1, body);
    const decoder = new FrameDecoder();
    const started = Date.now();
    for (let i = 0; i < bytes.length - 1; i++) {
      decoder.push(bytes.subarray(i, i + 1));
      assert.equal(decoder.next(), null);
    }
    decoder.push(bytes.subarray(bytes.length - 1));
    const frame = decoder.next()!;
    // Copying the bytes gathered so far on every push would take minutes here.
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assert.deepEqual(frame.subarray(12), body);
    assert.equal(decoder.hasPartialFrame, false);
  });

  it("waits for the announced bytes without handing out a frame", () => {
    const decoder = new FrameDecoder();
    const prefix = new Uint8Array(5);
    new DataView(prefix.buffer).setUint32(0, 16 * 1024 * 1024, true);
    decoder.push(prefix);
    assert.equal(decoder.next(), null);
    assert.equal(decoder.hasPartialFrame, true);
  });

  it("hands out frames that do not alias the pushed chunks", () => {
    const chunk = frameOf(MessageType.Request, 1, 1, ascii("xyz"));
    const decoder = new FrameDecoder();
    decoder.push(chunk);
    const frame = decoder.next()!;
    chunk.fill(0);
    assert.equal(new TextDecoder().decode(frame.subarray(12)), "xyz");
  });

  /** A 200 KiB frame cut into chunks of 64 KiB, each a buffer of its own, then a small frame behind it. */
  function largeFrameInChunks(): { chunks: Uint8Array[]; body: Uint8Array } {
    const body = new Uint8Array(200 * 1024).map((_, i) => (i * 31) & 0xff);
    const bytes = concat(frameOf(MessageType.Request, 1, 1, body), frameOf(MessageType.Request, 2, 1, ascii("tail")));
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += 64 * 1024) chunks.push(bytes.slice(at, at + 64 * 1024));
    return { chunks, body };
  }

  it("detaches whole chunks of detachable streams once their bytes are taken, and keeps the frames intact", () => {
    const { chunks, body } = largeFrameInChunks();
    const decoder = new FrameDecoder(undefined, true);
    const frames: Uint8Array[] = [];
    for (const chunk of chunks) {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== null; frame = decoder.next()) frames.push(frame);
    }
    assert.equal(frames.length, 2);
    assert.deepEqual(frames[0]!.subarray(12), body);
    assert.equal(new TextDecoder().decode(frames[1]!.subarray(12)), "tail");
    // Every chunk was taken whole and is detached; the last one is below 16 KiB and left alone.
    const last = chunks.length - 1;
    chunks.slice(0, last).forEach((chunk, i) => assert.equal(chunk.buffer.byteLength, 0, `chunk ${i} is detached`));
    assert.ok(chunks[last]!.length < 16 * 1024 && chunks[last]!.buffer.byteLength > 0);
  });

  it("goes on decoding when a chunk's buffer cannot be detached (a WebAssembly memory)", () => {
    const body = new Uint8Array(100 * 1024).map((_, i) => (i * 7) & 0xff);
    const bytes = concat(frameOf(MessageType.Request, 1, 1, body), frameOf(MessageType.Request, 2, 1, ascii("tail")));
    // Through globalThis: the npm build's TypeScript libraries (no DOM) do not declare WebAssembly.
    const { WebAssembly: wasm } = globalThis as unknown as {
      WebAssembly: { Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer } };
    };
    const memory = new Uint8Array(new wasm.Memory({ initial: 1 }).buffer);
    memory.set(bytes.subarray(0, memory.length));
    const decoder = new FrameDecoder(undefined, true);
    decoder.push(memory);
    decoder.push(bytes.slice(memory.length));
    assert.deepEqual(decoder.next()!.subarray(12), body);
    assert.deepEqual(decoder.next()!.subarray(12), ascii("tail"));
    assert.equal(memory.buffer.byteLength, 64 * 1024);
  });

  it("detaches nothing of a stream that did not say its chunks are detachable, nor views of a larger buffer", () => {
    const { chunks, body } = largeFrameInChunks();
    const decoder = new FrameDecoder();
    for (const chunk of chunks) decoder.push(chunk);
    assert.deepEqual(decoder.next()!.subarray(12), body);
    assert.ok(chunks.every((chunk) => chunk.buffer.byteLength > 0));

    // Each chunk a view of most of a buffer one byte longer (so the decoder keeps the view, not a copy),
    // at its start or one byte in: the byte left over is somebody else's and must stay readable.
    const views = chunks.map((chunk, i) => {
      const buffer = new Uint8Array(chunk.length + 1);
      buffer[i % 2 === 0 ? chunk.length : 0] = 0xa5;
      buffer.set(chunk, i % 2);
      return buffer.subarray(i % 2, i % 2 + chunk.length);
    });
    const detaching = new FrameDecoder(undefined, true);
    for (const view of views) detaching.push(view);
    assert.deepEqual(detaching.next()!.subarray(12), body);
    views.forEach((view, i) => {
      assert.equal(view.buffer.byteLength, view.length + 1, `the buffer of view ${i} is not detached`);
      assert.equal(new Uint8Array(view.buffer)[i % 2 === 0 ? view.length : 0], 0xa5);
    });
  });

  for (
    const [length, code] of [[0, "ERR_FRAME_TOO_SMALL"], [11, "ERR_FRAME_TOO_SMALL"], [
      0xffffffff,
      "ERR_FRAME_TOO_LARGE",
    ]] as const
  ) {
    it(`rejects a declared length of ${length} before allocating`, () => {
      const decoder = new FrameDecoder();
      const prefix = new Uint8Array(4);
      new DataView(prefix.buffer).setUint32(0, length, true);
      decoder.push(prefix);
      assert.throws(() => decoder.next(), (error: unknown) => error instanceof ProtocolError && error.code === code);
    });
  }

  it("respects a configured maximum", () => {
    const decoder = new FrameDecoder(100);
    decoder.push(frameOf(MessageType.Request, 1, 1, new Uint8Array(88)));
    assert.equal(decoder.next()!.length, 100);
    decoder.push(frameOf(MessageType.Request, 1, 1, new Uint8Array(89)));
    assert.throws(() => decoder.next(), /Frame of 101 bytes exceeds the 100-byte limit/);
  });

  it("rejects an unknown message type in the header", () => {
    const frame = frameOf(MessageType.Request, 1, 1, new Uint8Array(0));
    frame[4] = 5;
    assert.throws(
      () => readHeader(frame, 4),
      (error: unknown) => (error as ProtocolError).code === "ERR_INVALID_MESSAGE_TYPE",
    );
  });
});

describe("cborCodec", () => {
  it("decodes maps with only string keys as plain objects", () => {
    const value = cborCodec.decode(cborEncode({ a: 1, nested: { b: [2] } }));
    assert.deepEqual(value, { a: 1, nested: { b: [2] } });
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
  });

  it("decodes every map of a body as a Map when one map has a key that is not a string", () => {
    const body = cborEncode({ outer: new Map<unknown, unknown>([[1, "one"], ["two", 2]]) });
    assert.deepEqual(cborCodec.decode(body), new Map([["outer", new Map<unknown, unknown>([[1, "one"], ["two", 2]])]]));
  });

  for (
    const [label, bytes] of [
      ["a break code with nothing to end", [0xff]],
      ["a truncated string", [0x78, 0x10, 0x41]],
      ["a map with an integer key and then a truncated value", [0xa1, 0x01, 0x78, 0x10, 0x41]],
      ["duplicate keys", [0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02]],
      ["duplicate integer keys", [0xa2, 0x01, 0x01, 0x01, 0x02]],
    ] as const
  ) {
    it(`refuses ${label} with ERR_DECODE and the decoder's error as the cause`, () => {
      assert.throws(() => cborCodec.decode(new Uint8Array(bytes)), (error: unknown) => {
        assert.ok(error instanceof ProtocolError);
        assert.equal(error.code, "ERR_DECODE");
        assert.match(error.message, new RegExp(`^Invalid CBOR body of ${bytes.length} bytes: `));
        assert.ok(error.cause instanceof Error);
        return true;
      });
    });
  }
});

describe("methodId", () => {
  it("is 32-bit FNV-1a with the top bit cleared, as docs/PROTOCOL.md specifies", () => {
    assert.equal(methodId(""), 0x811c9dc5 & 0x7fffffff);
    assert.equal(methodId("echo"), 1419629700);
    assert.equal(methodId("add"), 993596020);
    assert.equal(methodId("héllo"), methodId("h\u00e9llo"));
  });
});
