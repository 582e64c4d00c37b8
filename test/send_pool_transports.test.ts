/**
 * The send pool (`src/base/buffer_pool.ts`) on the two transports whose
 * writes settle differently from a plain socket's: `tls:` (the TLS layer
 * keeps bytes of its own before the socket gets them) and a child
 * process's stdio pipes (`spawn` / `serveStdio`, on each runtime's process
 * API). A buffer of the pool given back while a write still reads it would
 * send another message's bytes: 32 large calls with distinct contents in
 * flight at once, the large replies and stream items the other side sends
 * back meanwhile, large items streamed to a handler, and large replies to
 * calls made back by the handler must all arrive byte for byte, and a caller
 * may change its bytes as soon as `call` or `send` returned its promise.
 * `test/send_pool.test.ts` does the same over `unix:`, `seqpacket:` and
 * `tcp:`.
 *
 * TLS runs through node:tls on Node, through Bun's sockets on Bun, and on
 * Deno through node:tls for the server and a pinned client; Deno's native
 * client (`Deno.startTls`, taken only against the root store) is run in a
 * Deno child of this file with a test CA in `DENO_CERT`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn as spawnProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { connect, generateCertificate, listen, type RpcConnection, spawn } from "../mod.ts";
import { runtimeName, scriptCommand, tempDir } from "./_helpers.ts";
import { byteAt, patterned, type PoolChild, type PoolHost, poolService } from "./fixtures/pool_service.ts";

const CHILD = "test/fixtures/pool_echo_child.ts";
/** Set in the Deno child that runs the native TLS client: where the test CA and the server's certificate are. */
const NATIVE_TLS_DIR = "PEERLINK_TEST_POOL_TLS_DIR";
const nativeTlsDir = runtimeName === "deno" ? process.env[NATIVE_TLS_DIR] : undefined;
const NATIVE_SUITE = "the send pool on Deno's native TLS client";
const KIB = 1024;
const CALLS = 32;

/**
 * Asserts that `bytes` is {@link patterned}`(size, tag)`. A mismatch is
 * reported by its offset and by whose bytes are there (a megabyte-long
 * `deepEqual` diff would take minutes to print).
 */
function assertPatterned(bytes: unknown, size: number, tag: number, label: string): void {
  assert.ok(bytes instanceof Uint8Array, `${label}: a Uint8Array`);
  assert.equal(bytes.length, size, `${label}: length`);
  let at = 0;
  while (at < size && bytes[at] === byteAt(at, tag)) at++;
  if (at === size) return;
  let wrong = at;
  for (let i = at; i < size; i++) if (bytes[i] !== byteAt(i, tag)) wrong++;
  const owner = Array.from({ length: 256 }, (_, other) => other).find((other) =>
    [0, 1, 2, 3].every((k) => at + k >= size || bytes[at + k] === byteAt(at + k, other))
  );
  assert.fail(
    `${label}: byte ${at} of ${size} is ${bytes[at]}, not ${byteAt(at, tag)} ` +
      `(${wrong - at} bytes wrong in all${owner === undefined ? "" : `; the bytes there are those of tag ${owner}`})`,
  );
}

/** Sizes of the 32 calls: 96 KiB up to about 1 MiB, all different. */
const callSizes = Array.from({ length: CALLS }, (_, tag) => 96 * KIB + tag * 29 * KIB + tag);
/** Sizes of the 32 made replies: about 1 MiB down to 96 KiB, so they do not line up with the calls. */
const madeSizes = callSizes.map((size) => callSizes[0]! + callSizes[CALLS - 1]! - size + 3);
/** Sizes of streamed items, both ways. */
const itemSizes = Array.from({ length: 16 }, (_, i) => 70 * KIB + i * 37 * KIB + 5 * i);

/** What the calling side serves for `callBack`. */
const host: PoolHost = { make: ([size, tag]: [number, number]) => patterned(size, tag) };

/**
 * Runs everything at once over `remote`: 32 echoes whose sources are
 * zeroed right after each call, 32 large replies, a stream of large items,
 * an upload of large items (each source overwritten right after its send) and
 * 32 large replies to calls back; then checks every body.
 */
async function exercise(remote: RpcConnection<PoolChild>): Promise<void> {
  const sent = callSizes.map((size, tag) => patterned(size, tag));
  const echoes = sent.map((bytes) => remote.call("echo", bytes));
  // The caller's bytes were copied when the call was made.
  for (const bytes of sent) bytes.fill(0);
  const made = madeSizes.map((size, tag) => remote.call("make", [size, tag]));
  const calledBack = remote.call("callBack", madeSizes);
  const uploaded = (async () => {
    const call = await remote.open("upload", itemSizes);
    for (const [i, size] of itemSizes.entries()) {
      const item = patterned(size, i);
      const accepted = call.send(item);
      // The item's bytes were copied when it was sent.
      item.fill(0xff);
      await accepted;
    }
    await call.end();
    return await call.result;
  })();
  const streamed = (async () => {
    const items: Uint8Array[] = [];
    for await (const item of remote.stream("items", itemSizes)) items.push(item);
    return items;
  })();
  // Awaited together, so that whatever fails first is reported and nothing is left to reject unheard.
  const [echoed, replies, items, upload, badCallBacks] = await Promise.all([
    Promise.all(echoes),
    Promise.all(made),
    streamed,
    uploaded,
    calledBack,
  ]);
  for (const [tag, bytes] of echoed.entries()) assertPatterned(bytes, callSizes[tag]!, tag, `echo ${tag}`);
  for (const [tag, bytes] of replies.entries()) assertPatterned(bytes, madeSizes[tag]!, tag, `reply ${tag}`);
  assert.equal(items.length, itemSizes.length, "items streamed");
  for (const [i, bytes] of items.entries()) assertPatterned(bytes, itemSizes[i]!, i, `item ${i}`);
  assert.deepEqual(upload, { bad: [], count: itemSizes.length }, "the uploaded items arrived intact");
  assert.deepEqual(badCallBacks, [], "the replies to the calls back arrived intact");
}

describe("the send pool on TLS and pipes", { skip: nativeTlsDir !== undefined }, () => {
  it("keeps 32 large calls, replies and items in flight apart over tls", async () => {
    const { cert, key, fingerprint256 } = await generateCertificate();
    const server = await listen("tls://127.0.0.1:0", { tls: { cert, key }, handlers: poolService });
    try {
      const client = await connect<PoolChild>(server.address, { tls: { pin: fingerprint256 }, handlers: host });
      try {
        assert.equal(client.info.transport, "tls");
        await exercise(client);
      } finally {
        await client.close();
      }
    } finally {
      await server.close();
    }
  });

  it(`keeps 32 large calls, replies and items in flight apart over the stdio pipes of a ${runtimeName} child`, async () => {
    const [command, args] = scriptCommand(runtimeName, CHILD);
    const child = await spawn<PoolChild>(command, args, { handlers: host });
    try {
      assert.equal(child.info.transport, "stdio");
      await exercise(child);
    } finally {
      await child.close();
    }
    assert.deepEqual(await child.child.exited, { code: 0, signal: null }, "the child exited by itself");
  });

  it("keeps them apart over Deno's native TLS client too, in a Deno child with the test CA in DENO_CERT", {
    skip: runtimeName === "deno" ? false : "Deno only",
  }, async () => {
    const dir = tempDir();
    try {
      const ca = await generateCertificate({ ca: true, commonName: "peerlink pool test CA" });
      const leaf = await generateCertificate({ hosts: ["localhost"], issuer: ca });
      writeFileSync(join(dir.path, "ca.pem"), ca.cert);
      writeFileSync(join(dir.path, "server.pem"), leaf.cert);
      writeFileSync(join(dir.path, "server.key"), leaf.key);
      const child = spawnProcess(
        process.execPath,
        ["test", "-A", "--no-check", "--filter", NATIVE_SUITE, fileURLToPath(import.meta.url)],
        { env: { ...process.env, DENO_CERT: join(dir.path, "ca.pem"), [NATIVE_TLS_DIR]: dir.path, NO_COLOR: "1" } },
      );
      let output = "";
      child.stdout!.on("data", (chunk: Uint8Array) => (output += new TextDecoder().decode(chunk)));
      child.stderr!.on("data", (chunk: Uint8Array) => (output += new TextDecoder().decode(chunk)));
      const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      clearTimeout(killer);
      assert.equal(code, 0, output);
      assert.match(output, /1 passed \(1 step\) \| 0 failed/, output);
    } finally {
      dir.cleanup();
    }
  });
});

describe(NATIVE_SUITE, {
  skip: nativeTlsDir === undefined ? "runs in a Deno child started by the test above, with DENO_CERT" : false,
}, () => {
  it("keeps 32 large calls, replies and items in flight apart over tls with Deno.startTls", async () => {
    const file = (name: string): string => readFileSync(join(nativeTlsDir!, name), "utf8");
    const server = await listen("tls://127.0.0.1:0", {
      tls: { cert: file("server.pem"), key: file("server.key") },
      handlers: poolService,
    });
    try {
      // Neither `ca`, `pin` nor `cert`: the root store verifies, through Deno.startTls.
      const client = await connect<PoolChild>(server.address, { tls: { serverName: "localhost" }, handlers: host });
      try {
        assert.deepEqual(client.info.tls, {}, "Deno's native TlsConn shows nothing: this is not node:tls");
        await exercise(client);
      } finally {
        await client.close();
      }
    } finally {
      await server.close();
    }
  });
});
