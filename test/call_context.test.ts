/**
 * The call-context prefix of request bodies: the flags byte, the u32
 * little-endian milliseconds left, round trips, clamping, and every body
 * that must be refused with ERR_DECODE.
 *
 * @module
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeCallContext, encodeCallContext } from "../src/session/call_context.ts";

const body = new Uint8Array([0xa1, 0x61, 0x61, 0x01]); // CBOR {a: 1}

describe("call context", () => {
  it("writes a flags byte of 0 and the body when there is no deadline", () => {
    const sent = encodeCallContext(body, undefined);
    assert.deepEqual(sent, new Uint8Array([0x00, ...body]));
    const { msLeft, body: rest } = decodeCallContext(sent);
    assert.equal(msLeft, undefined);
    assert.deepEqual(rest, body);
    assert.deepEqual(encodeCallContext(new Uint8Array(0), undefined), new Uint8Array([0]));
    assert.deepEqual(decodeCallContext(new Uint8Array([0])).body, new Uint8Array(0));
  });

  it("writes flag 0x01 and the milliseconds left as u32 little endian", () => {
    const sent = encodeCallContext(body, 0x01020304);
    assert.deepEqual(sent, new Uint8Array([0x01, 0x04, 0x03, 0x02, 0x01, ...body]));
    assert.deepEqual(decodeCallContext(sent), { msLeft: 0x01020304, body });
  });

  it("rounds up to whole milliseconds and clamps to 0 .. 2^32 - 1", () => {
    const msOf = (ms: number) => decodeCallContext(encodeCallContext(body, ms)).msLeft;
    assert.equal(msOf(0), 0);
    assert.equal(msOf(-50), 0);
    assert.equal(msOf(Number.NaN), 0);
    assert.equal(msOf(0.2), 1, "a call with time left never reads as already late");
    assert.equal(msOf(1500.5), 1501);
    assert.equal(msOf(2 ** 32 - 1), 2 ** 32 - 1);
    assert.equal(msOf(2 ** 40), 2 ** 32 - 1);
    assert.equal(msOf(Number.POSITIVE_INFINITY), 2 ** 32 - 1);
  });

  it("decodes a prefix inside a larger buffer (a view at an offset)", () => {
    const buffer = new Uint8Array([9, 9, 9, 0x01, 0x10, 0x27, 0x00, 0x00, 0xf6]);
    const { msLeft, body: rest } = decodeCallContext(buffer.subarray(3));
    assert.equal(msLeft, 10_000);
    assert.deepEqual(rest, new Uint8Array([0xf6]));
  });

  it("refuses an empty body, unknown flags and a deadline cut short with ERR_DECODE", () => {
    const refused = [
      new Uint8Array(0),
      new Uint8Array([0x02]),
      new Uint8Array([0x03, 0, 0, 0, 0]),
      new Uint8Array([0x80, 0xf6]),
      new Uint8Array([0xff]),
      new Uint8Array([0x01]),
      new Uint8Array([0x01, 0x10, 0x27, 0x00]),
    ];
    for (const bytes of refused) {
      assert.throws(() => decodeCallContext(bytes), { name: "ProtocolError", code: "ERR_DECODE" }, `${bytes}`);
    }
    assert.throws(() => decodeCallContext(new Uint8Array([0x02])), /Unknown call-context flags 0x02/);
  });
});
