/**
 * The CBOR data model of peerlink's default codec, byte for byte in both
 * directions: RFC 8949's examples, bignums (tags 2 and 3), what JavaScript
 * values turn into, tags that fail only the value (`DataError`
 * `ERR_UNSUPPORTED_TAG`) and malformed bytes (`ProtocolError` `ERR_DECODE`).
 * docs/PROTOCOL.md, "The CBOR data model", describes what is pinned here.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { Tagged } from "cborg";
import { DataError, ProtocolError, UsageError } from "../src/base/errors.ts";
import { cborCodec } from "../src/wire/codec.ts";
import { appendixA, appendixARefused, appendixATagged, appendixF } from "./fixtures/cbor/rfc8949_vectors.ts";

const bytes = (hex: string): Uint8Array => new Uint8Array((hex.match(/../g) ?? []).map((b) => parseInt(b, 16)));
const hexOf = (data: Uint8Array): string => Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
const encodeHex = (value: unknown): string => hexOf(cborCodec.encode(value));
const decodeHex = (hex: string): unknown => cborCodec.decode(bytes(hex));

/** Asserts that decoding `hex` fails with `ERR_DECODE`, the error that closes the connection. */
function assertMalformed(hex: string): void {
  assert.throws(() => decodeHex(hex), (error: unknown) => {
    assert.ok(error instanceof ProtocolError, `${hex}: expected a ProtocolError, got ${error}`);
    assert.equal(error.code, "ERR_DECODE");
    assert.match(error.message, new RegExp(`^Invalid CBOR body of ${hex.length / 2} bytes: `));
    assert.ok(error.cause instanceof Error);
    return true;
  });
}

/** Asserts that decoding `hex` fails with `ERR_UNSUPPORTED_TAG` naming `tag`, the error that fails one call. */
function assertUnsupportedTag(hex: string, tag: number | bigint): void {
  assert.throws(() => decodeHex(hex), (error: unknown) => {
    assert.ok(error instanceof DataError, `${hex}: expected a DataError, got ${error}`);
    assert.ok(!(error instanceof ProtocolError));
    assert.equal(error.code, "ERR_UNSUPPORTED_TAG");
    assert.match(error.message, new RegExp(`\\btag ${tag}\\b`));
    return true;
  });
}

describe("RFC 8949 Appendix A", () => {
  for (const { hex, value, encodesAs } of appendixA) {
    it(`decodes ${hex} and encodes its value as ${encodesAs ?? "the same bytes"}`, () => {
      assert.deepStrictEqual(decodeHex(hex), value);
      assert.equal(encodeHex(value), encodesAs ?? hex);
    });
  }

  for (const { hex, tag } of appendixATagged) {
    it(`refuses tag ${tag} (${hex.slice(0, 12)}...) with ERR_UNSUPPORTED_TAG`, () => assertUnsupportedTag(hex, tag));
  }

  for (const hex of appendixARefused) {
    it(`refuses ${hex} (no simple values beyond null/undefined, no indefinite-length strings)`, () => {
      assertMalformed(hex);
    });
  }
});

describe("RFC 8949 Appendix F.1: items that are not well formed", () => {
  it(`refuses all ${appendixF.length} with ERR_DECODE`, () => {
    for (const hex of appendixF) assertMalformed(hex);
  });

  it("refuses a break code where a map value belongs, which cborg itself would hand back as a symbol", () => {
    for (const hex of ["a16161ff", "bf6161ff616201ff", "9fa16161ffff", "a1c2ff", "c1a16161ff", "82a1018001ff"]) {
      assertMalformed(hex);
    }
    assert.deepStrictEqual(decodeHex("a16161a0"), { a: {} });
    assert.deepStrictEqual(decodeHex("a1614118ff"), { A: 255 });
  });
});

describe("integers", () => {
  it("decodes safe integers as numbers and the rest of the 64-bit range as bigints", () => {
    assert.equal(decodeHex("1b001fffffffffffff"), Number.MAX_SAFE_INTEGER);
    assert.equal(decodeHex("1b0020000000000000"), 2n ** 53n);
    assert.equal(decodeHex("3b001ffffffffffffe"), Number.MIN_SAFE_INTEGER);
    assert.equal(decodeHex("3b001fffffffffffff"), -(2n ** 53n));
    assert.equal(decodeHex("1bffffffffffffffff"), 2n ** 64n - 1n);
    assert.equal(decodeHex("3bffffffffffffffff"), -(2n ** 64n));
  });

  it("encodes bigints within 64 bits as plain integers in their shortest form", () => {
    assert.equal(encodeHex(5n), "05");
    assert.equal(encodeHex(-5n), "24");
    assert.equal(encodeHex(2n ** 53n), "1b0020000000000000");
    assert.equal(encodeHex(2n ** 64n - 1n), "1bffffffffffffffff");
    assert.equal(encodeHex(-(2n ** 64n)), "3bffffffffffffffff");
  });

  it("encodes numbers that are not safe integers as floats, the shortest that holds them", () => {
    assert.equal(encodeHex(2 ** 53), "fa5a000000");
    assert.equal(encodeHex(2 ** 64), "fa5f800000");
    assert.equal(encodeHex(-(2 ** 63)), "fadf000000");
    assert.equal(encodeHex(Number.MAX_VALUE), "fb7fefffffffffffff");
    assert.equal(encodeHex(0.1), "fb3fb999999999999a");
  });

  it("accepts integers and lengths not written in their shortest form", () => {
    assert.equal(decodeHex("1801"), 1);
    assert.equal(decodeHex("1b0000000000000001"), 1);
    assert.equal(decodeHex("3800"), -1);
    assert.equal(decodeHex("780161"), "a");
  });
});

describe("floats", () => {
  it("decodes -0 from every width and encodes it as the integer 0", () => {
    for (const hex of ["f98000", "fa80000000", "fb8000000000000000"]) assert.ok(Object.is(decodeHex(hex), -0), hex);
    assert.equal(encodeHex(-0), "00");
  });

  it("decodes every NaN as NaN and encodes NaN and the infinities as half floats", () => {
    for (const hex of ["f97e00", "f97e01", "f9fe00", "fa7fc00001", "fb7ff8000000000001", "fbfff8000000000000"]) {
      assert.ok(Number.isNaN(decodeHex(hex)), hex);
    }
    assert.equal(encodeHex(NaN), "f97e00");
    assert.equal(encodeHex(Infinity), "f97c00");
    assert.equal(encodeHex(-Infinity), "f9fc00");
  });

  it("decodes half, single and double floats as numbers", () => {
    assert.equal(decodeHex("f93e00"), 1.5);
    assert.equal(decodeHex("fa3fc00000"), 1.5);
    assert.equal(decodeHex("fb3ff8000000000000"), 1.5);
    assert.equal(decodeHex("fa3dcccccd"), Math.fround(0.1));
  });
});

describe("simple values", () => {
  it("carries false, true, null and undefined, also as map values", () => {
    assert.equal(encodeHex({ a: undefined }), "a16161f7");
    const decoded = decodeHex("a26161f76162f6");
    assert.deepStrictEqual(decoded, { a: undefined, b: null });
    assert.ok(Object.hasOwn(decoded as object, "a"));
    assert.equal(encodeHex([false, true, null, undefined]), "84f4f5f6f7");
  });

  it("refuses every other simple value", () => {
    for (const hex of ["e0", "ef", "f3", "f820", "f8ff"]) assertMalformed(hex);
  });
});

describe("byte strings", () => {
  it("decodes as a Uint8Array copy that does not alias the body, also from a Buffer", () => {
    const body = bytes("a1616143010203");
    const decoded = cborCodec.decode(body) as { a: Uint8Array };
    body[4] = 99;
    assert.deepStrictEqual(decoded.a, new Uint8Array([1, 2, 3]));
    const fromBuffer = cborCodec.decode(Buffer.from("43010203", "hex")) as Uint8Array;
    assert.equal(Object.getPrototypeOf(fromBuffer), Uint8Array.prototype);
  });

  it("encodes the viewed bytes of every typed array, DataView, ArrayBuffer and Buffer (machine byte order)", () => {
    const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
    assert.ok(littleEndian, "the pinned bytes below are those of a little-endian machine");
    const backing = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer;
    const cases: [unknown, string][] = [
      [new Uint8Array(backing, 2, 3), "43030405"],
      [new Uint8ClampedArray([255, 0]), "42ff00"],
      [new Int8Array([-1]), "41ff"],
      [new Uint16Array(backing, 2, 2), "4403040506"],
      [new Int32Array([-2]), "44feffffff"],
      [new Float32Array([1]), "440000803f"],
      [new Float64Array([1]), "48000000000000f03f"],
      [new BigUint64Array([1n]), "480100000000000000"],
      [new BigInt64Array([-1n]), "48ffffffffffffffff"],
      [new DataView(backing, 6), "420708"],
      [backing, "480102030405060708"],
      [Buffer.from([9, 8]), "420908"],
    ];
    for (const [value, hex] of cases) {
      assert.equal(encodeHex(value), hex, Object.prototype.toString.call(value));
      assert.equal(Object.getPrototypeOf(decodeHex(hex)), Uint8Array.prototype);
    }
  });
});

describe("text strings", () => {
  it("round-trips any well-formed UTF-8", () => {
    const text = "a\u00e9\u6c34\u{1f600}\u0000";
    assert.equal(encodeHex(text), "6b61c3a9e6b0b4f09f988000");
    assert.equal(decodeHex("6b61c3a9e6b0b4f09f988000"), text);
  });

  it("decodes invalid UTF-8 with U+FFFD in place of each bad sequence, and encodes lone surrogates as U+FFFD", () => {
    assert.equal(decodeHex("62c328"), "\ufffd(");
    assert.equal(decodeHex("61ff"), "\ufffd");
    assert.equal(encodeHex("\ud800"), "63efbfbd");
    assert.equal(encodeHex("\udc00x"), "64efbfbd78");
  });
});

describe("maps", () => {
  it("decodes a body whose maps all have text keys as plain objects, keeping __proto__ an own key", () => {
    const decoded = decodeHex("a2695f5f70726f746f5f5f01616102") as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
    assert.deepStrictEqual(Object.keys(decoded), ["__proto__", "a"]);
  });

  it("decodes every map of a body as a Map once one map has a key that is not text", () => {
    assert.deepStrictEqual(
      decodeHex("a26161a16162010102"),
      new Map<unknown, unknown>([["a", new Map([["b", 1]])], [1, 2]]),
    );
    assert.deepStrictEqual(decodeHex("a1f5f4"), new Map([[true, false]]));
    assert.deepStrictEqual(decodeHex("a1420102f6"), new Map([[new Uint8Array([1, 2]), null]]));
  });

  it("encodes a Map with its own keys and an object with its text keys, length first then bytewise", () => {
    assert.equal(encodeHex(new Map<unknown, unknown>([["b", 1], [2, "c"]])), "a2026163616201");
    assert.equal(encodeHex({ bb: 1, a: 2, c: 3 }), "a361610261630362626201");
    class Point {
      x = 1;
      y = 2;
    }
    assert.equal(encodeHex(new Point()), "a2617801617902");
  });

  it("refuses duplicate keys, also ones JavaScript cannot tell apart (1 and 1.0)", () => {
    for (
      const hex of [
        "a2616101616102", // "a" twice
        "a201010102", // 1 twice
        "a201f6f93c00f6", // 1 and 1.0
        "a2c24901000000000000000001c24901000000000000000002", // 2^64 twice
        "bf61610161610202ff", // "a" twice, indefinite length
      ]
    ) assertMalformed(hex);
  });
});

describe("bignums (tags 2 and 3)", () => {
  it("encodes integers beyond 64 bits as tag 2 or 3 around minimal big-endian bytes, and decodes them back", () => {
    const cases: [bigint, string][] = [
      [2n ** 64n, "c249010000000000000000"],
      [-(2n ** 64n) - 1n, "c349010000000000000000"],
      [2n ** 64n + 255n, "c2490100000000000000ff"],
      [-(2n ** 64n) - 2n, "c349010000000000000001"],
      [2n ** 128n, "c25101" + "00".repeat(16)],
      [-(2n ** 128n), "c350" + "ff".repeat(16)],
    ];
    for (const [value, hex] of cases) {
      assert.equal(encodeHex(value), hex, String(value));
      assert.equal(decodeHex(hex), value);
    }
  });

  it("round-trips every 2^k and its neighbours up to 2^520, alone and inside arrays, objects and Map keys", () => {
    const normal = (value: bigint): number | bigint =>
      value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
    for (let k = 0n; k <= 520n; k++) {
      for (const value of [2n ** k, 2n ** k - 1n, -(2n ** k), -(2n ** k) - 1n]) {
        const encoded = cborCodec.encode(value);
        assert.equal(cborCodec.decode(encoded), normal(value), String(value));
        if (value >= 2n ** 64n || value < -(2n ** 64n)) {
          const magnitude = value >= 0n ? value : -1n - value;
          assert.equal(encoded[0], value >= 0n ? 0xc2 : 0xc3);
          const content = cborCodec.decode(encoded.subarray(1)) as Uint8Array;
          assert.notEqual(content[0], 0, "minimal: no leading zero byte");
          assert.equal(content.reduce((sum, byte) => sum * 256n + BigInt(byte), 0n), magnitude);
        }
      }
    }
    const nested = [2n ** 100n, { a: -(2n ** 70n), b: [2n ** 64n - 1n] }];
    assert.equal(
      encodeHex(nested),
      "82c24d10000000000000000000000000a26161c3493fffffffffffffffff6162811bffffffffffffffff",
    );
    assert.deepStrictEqual(cborCodec.decode(cborCodec.encode(nested)), nested);
    const keyed = new Map<unknown, unknown>([[2n ** 64n, "big"], [-(2n ** 65n), "small"]]);
    assert.deepStrictEqual(cborCodec.decode(cborCodec.encode(keyed)), keyed);
  });

  it("decodes bignums with leading zeros, and ones small enough for a plain integer as that integer would", () => {
    assert.equal(decodeHex("c24a00010000000000000000"), 2n ** 64n);
    assert.equal(decodeHex("c240"), 0);
    assert.equal(decodeHex("c34100"), -1);
    assert.equal(decodeHex("c24101"), 1);
    assert.equal(decodeHex("c2471fffffffffffff"), Number.MAX_SAFE_INTEGER);
    assert.equal(decodeHex("c2480020000000000000"), 2n ** 53n);
    assert.equal(decodeHex("c3471ffffffffffffe"), Number.MIN_SAFE_INTEGER);
    assert.equal(decodeHex("c3471fffffffffffff"), -(2n ** 53n));
    assert.equal(decodeHex("d9d9f7c249010000000000000000"), 2n ** 64n);
  });

  it("refuses a bignum that does not hold a byte string with ERR_DECODE", () => {
    for (const hex of ["c26161", "c280", "c201", "c3f6", "c2c24101", "c2c100"]) assertMalformed(hex);
  });
});

describe("other tags", () => {
  it("fail only the value with ERR_UNSUPPORTED_TAG naming the first tag, wherever they stand", () => {
    assertUnsupportedTag("c100", 1);
    assertUnsupportedTag("8301d82000c100", 32);
    assertUnsupportedTag("a16161d9010280", 258);
    assertUnsupportedTag("a1c1006161", 1); // as a map key
    assertUnsupportedTag("a2c10001c10002", 1); // two such keys are not duplicates
    assertUnsupportedTag("a101d82000", 32); // in a body that would decode with Maps
    assertUnsupportedTag("c1c24101", 1);
    assertUnsupportedTag("db000000010000000001", 4294967296);
    assertUnsupportedTag("dbffffffffffffffff01", 18446744073709551615n);
  });

  it("skip tag 55799 (self-described CBOR) in front of the body only", () => {
    assert.deepStrictEqual(decodeHex("d9d9f7a1616101"), { a: 1 });
    assert.equal(decodeHex("d9d9f7f7"), undefined);
    assertUnsupportedTag("d9d9f7d9d9f701", 55799);
    assertUnsupportedTag("82d9d9f70102", 55799);
    assertUnsupportedTag("da0000d9f701", 55799); // not in the 3-byte form
    assertMalformed("d9d9f7");
    assertMalformed("d9d9f70101");
  });

  it("are ERR_DECODE when the body is malformed anywhere: every truncation, a trailing byte, a stray break", () => {
    const body = "a3616101616282c1fb41d452d9ec200000f56163d8206c687474703a2f2f782e6f7267";
    assertUnsupportedTag(body, 1);
    for (let end = 1; end < body.length / 2; end++) assertMalformed(body.slice(0, 2 * end));
    assertMalformed(body + "00");
    assertMalformed("82c100a16161ff");
    assertMalformed("c11c");
  });

  it("are refused when encoding, even through cborg's Tagged wrapper", () => {
    assert.throws(() => cborCodec.encode([new Tagged(1, 0)]), { name: "UsageError", code: "ERR_ENCODE" });
  });
});

describe("malformed bodies", () => {
  it("decode the empty body as undefined and refuse trailing bytes", () => {
    assert.equal(cborCodec.decode(new Uint8Array()), undefined);
    assertMalformed("0101");
    assertMalformed("a0a0");
    assertMalformed("f7ff");
  });

  it("refuse every truncation of a body using each major type", () => {
    const value = { n: [0, -1, 2n ** 64n, 1.5, 1.1], s: "text", b: new Uint8Array([1, 2]), m: { t: true, u: null } };
    const body = hexOf(cborCodec.encode(value));
    assert.deepStrictEqual(decodeHex(body), value);
    for (let end = 1; end < body.length / 2; end++) assertMalformed(body.slice(0, 2 * end));
  });
});

describe("values CBOR does not carry", () => {
  it("fail to encode with UsageError ERR_ENCODE", () => {
    const circular: unknown[] = [];
    circular.push(circular);
    for (
      const value of [() => 1, Symbol("s"), new Date(0), new Set([1]), new Error("e"), /x/, circular, [1, () => 1]]
    ) {
      assert.throws(() => cborCodec.encode(value), (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.equal(error.code, "ERR_ENCODE");
        assert.match(error.message, /^Cannot encode the value as CBOR: /);
        return true;
      });
    }
  });
});
