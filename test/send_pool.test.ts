/**
 * The send pool (`src/base/buffer_pool.ts`): large outgoing bodies are
 * encoded into reused buffers, given back once written. A buffer handed out
 * again while a write still reads it would send another call's bytes: many
 * large calls, items and replies with distinct contents in flight at once
 * must all arrive intact, on every transport, and a caller may change its
 * bytes as soon as `call` returned its promise.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { connect, listen } from "../mod.ts";
import { BufferPool } from "../src/base/buffer_pool.ts";
import { tempDir } from "./_helpers.ts";

const dir = tempDir();
after(() => dir.cleanup());
let sockets = 0;

/** Bytes that tell `tag` and every position apart. */
function patterned(size: number, tag: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + tag * 17) & 0xff;
  return bytes;
}

describe("the send pool", () => {
  it("hands a buffer out again only once it was given back, and keeps no more than it may", () => {
    const pool = new BufferPool();
    const a = pool.take(100_000);
    const b = pool.take(100_000);
    assert.notEqual(a.buffer, b.buffer);
    pool.give(a);
    pool.give(a);
    const c = pool.take(70_000);
    assert.equal(c.buffer, a.buffer);
    assert.notEqual(pool.take(70_000).buffer, a.buffer, "a buffer given back twice is handed out once");
    pool.give(new Uint8Array(100_000));
    assert.equal(pool.take(300_000).length, 300_000);
    pool.give(b);
    assert.notEqual(pool.take(20_000).buffer, b.buffer, "a buffer more than twice the size is not used");
  });

  for (const transport of ["unix", "seqpacket", "tcp"] as const) {
    it(`keeps 32 large calls in flight apart over ${transport}`, async () => {
      const address = transport === "tcp"
        ? "tcp://127.0.0.1:0"
        : `${transport}:${join(dir.path, `pool-${sockets++}.sock`)}`;
      const limits = transport === "seqpacket" ? { maxPacketSize: 1 << 20 } : {};
      const server = await listen(address, {
        ...limits,
        handlers: {
          echo: (value: unknown) => value,
          make: (tag: number) => patterned(200_000 + tag, tag),
          async *items(count: number) {
            for (let i = 0; i < count; i++) yield patterned(70_000 + i, i);
          },
        },
      });
      const client = await connect(server.address, limits);
      const sent = Array.from({ length: 32 }, (_, tag) => patterned(100_000 + tag * 1000, tag));
      const echoes = sent.map((bytes) => client.call("echo", bytes) as Promise<Uint8Array>);
      // The caller's bytes were copied when the call was made.
      for (const bytes of sent) bytes.fill(0);
      const made = Array.from({ length: 32 }, (_, tag) => client.call("make", tag) as Promise<Uint8Array>);
      const streamed: Uint8Array[] = [];
      for await (const item of client.stream("items", 16)) streamed.push(item as Uint8Array);
      const echoed = await Promise.all(echoes);
      for (const [tag, bytes] of echoed.entries()) {
        assert.deepEqual(bytes, patterned(100_000 + tag * 1000, tag), `echo ${tag}`);
      }
      for (const [tag, bytes] of (await Promise.all(made)).entries()) {
        assert.deepEqual(bytes, patterned(200_000 + tag, tag), `reply ${tag}`);
      }
      for (const [i, bytes] of streamed.entries()) assert.deepEqual(bytes, patterned(70_000 + i, i), `item ${i}`);
      await client.close();
      await server.close();
    });
  }
});
