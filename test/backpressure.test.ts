import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect } from "../mod.ts";
import { delay, tempDir } from "./_helpers.ts";
import { listenRawStream } from "./_raw_sockets.ts";

describe("write backpressure", () => {
  it("holds senders back while the peer does not read, then delivers everything", async () => {
    const dir = tempDir();
    const address = `unix:${join(dir.path, "slow.sock")}`;
    const listener = await listenRawStream(address);
    // The raw listener speaks no handshake: a plain fizyr-rpc client.
    const client = await connect(address, { protocol: "fizyr" });
    const stalled = (await listener.accept())!;

    const messageSize = 64 * 1024;
    const count = 400; // 25 MiB in all: far more than socket buffers hold
    let accepted = 0;
    const sends = Array.from(
      { length: count },
      () => client.notify("blob", new Uint8Array(messageSize)).then(() => accepted++),
    );
    await delay(300);
    const acceptedWhileStalled = accepted;
    assert.ok(
      acceptedWhileStalled < count / 4,
      `${acceptedWhileStalled} of ${count} sends completed while the peer read nothing: writes are not held back`,
    );

    let received = 0;
    const expected = count * (16 + 5 + messageSize); // prefix + header, CBOR byte-string head, bytes
    while (received < expected) {
      const chunk = await stalled.read();
      if (chunk === null) break;
      received += chunk.length;
    }
    await Promise.all(sends);
    assert.equal(accepted, count);
    assert.equal(received, expected);

    await client.close();
    await stalled.close();
    await listener.close();
    dir.cleanup();
  });
});
