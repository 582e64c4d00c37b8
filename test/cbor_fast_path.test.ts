/**
 * The codec's fast paths against cborg: `encodeCommonValue` must write the
 * very bytes cborg writes, `decodeCommonBody` must return the very values
 * cborg returns (prototypes, key order, -0 and all), and whatever either one
 * declines must end exactly as it does through cborg alone (`cborgCodec`).
 * Seeded random values, random CBOR and mutations of both, so that a failure
 * replays.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { Tagged } from "cborg";
import { DECLINED, decodeCommonBody } from "../src/wire/cbor_fast_decode.ts";
import { encodeCommonValue } from "../src/wire/cbor_fast_encode.ts";
import { cborCodec, cborgCodec } from "../src/wire/codec.ts";

const hexOf = (data: Uint8Array): string => Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
/** Asserts that two byte arrays hold the same bytes, naming the first 64 of each if not. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, where = "bytes"): void {
  let same = actual.length === expected.length;
  for (let i = 0; same && i < actual.length; i++) same = actual[i] === expected[i];
  if (!same) assert.fail(`${where}: ${hexOf(actual.subarray(0, 64))} is not ${hexOf(expected.subarray(0, 64))}`);
}
const bytes = (hex: string): Uint8Array => new Uint8Array((hex.match(/../g) ?? []).map((b) => parseInt(b, 16)));

/** A small seeded generator (mulberry32), so that every run sees the same cases. */
class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// Every head-size boundary (23/24, 2^8, 2^16, 2^32, 2^53, 2^64) and its neighbours, as bigints.
const EDGE_BIGINTS: bigint[] = [];
for (let k = 0n; k <= 66n; k++) {
  for (const n of [2n ** k - 1n, 2n ** k, 2n ** k + 1n]) EDGE_BIGINTS.push(n, -n);
}
EDGE_BIGINTS.push(23n, 24n, -24n, -25n, 2n ** 100n, -(2n ** 100n) - 1n, 2n ** 64n - 1n, -(2n ** 64n), 0n);
const EDGE_NUMBERS: number[] = [
  ...EDGE_BIGINTS.map(Number),
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE, // a subnormal double
  2 ** -1074 * 3,
  2 ** -1022,
  Number.EPSILON,
  0.1,
  1.1,
  1.5,
  -1.5,
  65504, // the largest half
  65504.5,
  65519.99,
  2 ** -14, // the smallest normal half
  2 ** -24, // the smallest subnormal half
  3 * 2 ** -24, // exact as a half, but cborg writes a single
  2 ** -25,
  2 ** -15 + 2 ** -24,
  2 ** -126, // the smallest normal single
  2 ** -149, // the smallest subnormal single
  2 ** -150,
  3.4028234663852886e38, // the largest single
  3.4028235677973366e38,
  Math.fround(0.1),
  -Math.fround(1 / 3),
  2 ** 53 + 2,
  2 ** 63,
  2 ** 64,
  2 ** 64 + 4096,
  -(2 ** 64),
  1e300,
  -1e-300,
];

function randomNumber(r: Random): number {
  switch (r.int(6)) {
    case 0:
      return r.pick(EDGE_NUMBERS);
    case 1:
      return r.int(1 << r.int(31)) * (r.chance(0.5) ? 1 : -1);
    case 2:
      return Math.floor(r.next() * 2 ** r.int(60)) * (r.chance(0.5) ? 1 : -1);
    case 3: // exact halves: an 11-bit significand at a half's exponent
      return (r.int(2048) - 1024) * 2 ** (r.int(40) - 34);
    case 4:
      return Math.fround((r.next() - 0.5) * 2 ** (r.int(80) - 40));
    default: {
      const bits = new Uint32Array(2);
      bits[0] = r.int(2 ** 32);
      bits[1] = r.int(2 ** 32);
      return new Float64Array(bits.buffer)[0]!;
    }
  }
}

function randomBigInt(r: Random): bigint {
  if (r.chance(0.5)) return r.pick(EDGE_BIGINTS);
  let n = 0n;
  for (let i = r.int(12); i > 0; i--) n = (n << 16n) | BigInt(r.int(65536));
  return r.chance(0.5) ? n : -n;
}

const TEXT_PIECES = ["a", "Z", "0", " ", "~", "\u0000", "\u007f", "\u0080", "é", "\u07ff", "\u0800", "水", "\ufeff"]
  .concat(["\uffff", "\ud7ff", "\ue000", "😀", "\u{10ffff}", "\ud800", "\udbff", "\udc00", "\udfff", "\ud83d"]);

function randomText(r: Random): string {
  const size = r.pick([0, 1, 2, 7, 8, 23, 24, 31, 32, 33, 48, 63, 64, 85, 86, 255, 256, 300, r.int(5000)]);
  const ascii = r.chance(0.5);
  let text = "";
  while (text.length < size) {
    text += ascii ? String.fromCharCode(32 + r.int(95)) : r.chance(0.6) ? String.fromCharCode(r.int(128)) : r.pick(
      TEXT_PIECES,
    );
  }
  return text;
}

function randomBytes(r: Random, size = r.pick([0, 1, 23, 24, 48, 255, 256, 2047, 2048, 2049, r.int(65536)])) {
  const out = new Uint8Array(size);
  // Random at the start, where decoding goes wrong if it does; those bytes again beyond, which is cheaper.
  for (let i = 0; i < Math.min(size, 61); i++) out[i] = r.int(256);
  for (let filled = 61; filled < size; filled *= 2) out.copyWithin(filled, 0, filled);
  return out;
}

const KEYS = ["a", "b", "aa", "ab", "ba", "id", "name", "tags", "z", "10", "2", "1", "-1", "", "constructor"]
  .concat(["toString", "é", "e", "f", "水", "😀", "\ufffd", "ÿ", "key with spaces", "__proto\u005f_x"]);

/** How many more arrays, objects and Maps the value being generated may have. */
let containersLeft = 0;

/** A value the fast encoder takes: primitives, bytes and views, arrays, plain objects, Maps with text or int keys. */
function randomValue(r: Random, depth = 0): unknown {
  if (depth === 0) containersLeft = 1 + r.int(12);
  const leafOnly = depth > 5 || containersLeft-- <= 0;
  switch (r.int(leafOnly ? 7 : 11)) {
    case 0:
    case 1:
      return randomNumber(r);
    case 2:
      return randomBigInt(r);
    case 3:
      return randomText(r);
    case 4:
      return r.chance(0.8) ? randomBytes(r) : randomView(r);
    case 5:
      return r.pick([true, false, null, undefined]);
    case 6:
      return r.chance(0.5) ? r.int(100) : r.pick(KEYS);
    case 7:
    case 8:
      return Array.from({ length: r.pick([0, 1, 2, 3, 5, 23, 24, 30]) }, () => randomValue(r, depth + 1));
    case 9:
      return randomObject(r, depth);
    default:
      return randomMap(r, depth);
  }
}

function randomKey(r: Random): string {
  // Well formed: two keys with lone surrogates can have the same UTF-8, which the fast path leaves to cborg.
  return r.chance(0.7) ? r.pick(KEYS) : r.chance(0.5) ? randomText(r).slice(0, 12).toWellFormed() : `k${r.int(40)}`;
}

function randomObject(r: Random, depth: number): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (let i = r.pick([0, 1, 2, 3, 6, 17, 25]); i > 0; i--) object[randomKey(r)] = randomValue(r, depth + 1);
  // An own __proto__ key, as JSON.parse makes one.
  if (r.chance(0.05)) Object.defineProperty(object, "__proto__", { value: 1, enumerable: true });
  return object;
}

function randomMap(r: Random, depth: number): Map<unknown, unknown> {
  const map = new Map<unknown, unknown>();
  for (let i = r.pick([0, 1, 2, 5, 20]); i > 0; i--) {
    const key = r.chance(0.5) ? randomKey(r) : r.chance(0.5) ? r.int(300) - 150 : r.pick(EDGE_BIGINTS.map(Number));
    if (Number.isSafeInteger(key) || typeof key === "string") map.set(key, randomValue(r, depth + 1));
  }
  return map;
}

function randomView(r: Random): unknown {
  const backing = randomBytes(r, 8 * (2 + r.int(40))).buffer;
  const from = 8 * r.int(1);
  switch (r.int(7)) {
    case 0:
      return new Float32Array(backing, from);
    case 1:
      return new Uint16Array(backing, from, 2);
    case 2:
      return new BigInt64Array(backing);
    case 3:
      return new DataView(backing, r.int(8));
    case 4:
      return backing;
    case 5:
      return Buffer.from(randomBytes(r));
    default:
      return new Uint8Array(backing, r.int(8), 3);
  }
}

/** What a call ended with: a value, or an error's class, code and message. */
type Outcome = { value: unknown } | { error: { name: string; code: unknown; message: string } };

function outcome(run: () => unknown): Outcome {
  try {
    return { value: run() };
  } catch (error) {
    const { name, message } = error as Error;
    return { error: { name, code: (error as { code?: unknown }).code, message } };
  }
}

/** Equal as `assert.deepStrictEqual` sees it, and also in key order, property attributes and Uint8Array prototypes. */
function assertSameValue(actual: unknown, expected: unknown, where = "value"): void {
  if (typeof expected !== "object" || expected === null) {
    assert.ok(Object.is(actual, expected), `${where}: ${String(actual)} is not ${String(expected)}`);
    return;
  }
  assert.ok(typeof actual === "object" && actual !== null, `${where}: not an object`);
  assert.equal(Object.getPrototypeOf(actual), Object.getPrototypeOf(expected), `${where}: prototype`);
  if (expected instanceof Uint8Array) {
    assertSameBytes(actual as Uint8Array, expected, where);
  } else if (expected instanceof Map) {
    const entries = [...(actual as Map<unknown, unknown>)];
    assert.equal(entries.length, expected.size, `${where}: size`);
    let i = 0;
    for (const [key, item] of expected) {
      assertSameValue(entries[i]![0], key, `${where} key ${i}`);
      assertSameValue(entries[i]![1], item, `${where}.get(${String(key)})`);
      i++;
    }
  } else {
    const keys = Reflect.ownKeys(expected);
    assert.deepEqual(Reflect.ownKeys(actual), keys, `${where}: keys`);
    for (const key of keys) {
      const want: PropertyDescriptor = Object.getOwnPropertyDescriptor(expected, key)!;
      const got: PropertyDescriptor = Object.getOwnPropertyDescriptor(actual, key)!;
      assert.deepEqual([got.enumerable, got.writable, got.configurable], [
        want.enumerable,
        want.writable,
        want.configurable,
      ]);
      if (key !== "length" || !Array.isArray(expected)) {
        assertSameValue(got.value, want.value, `${where}.${String(key)}`);
      }
    }
  }
}

/** The fast encoder writes cborg's bytes for `value`, and the codec does too. */
function assertEncodesLikeCborg(value: unknown): Uint8Array {
  const expected = cborgCodec.encode(value);
  const fast = encodeCommonValue(value);
  assert.ok(fast !== null, "the fast encoder declined a common value");
  assertSameBytes(fast, expected);
  // The result may be a view of a shared slab, never of the encoder's scratch: the next encodes leave it alone.
  assertSameBytes(cborCodec.encode(value), expected);
  encodeCommonValue([1, "overwrite", new Uint8Array(64).fill(0xee)]);
  assertSameBytes(fast, expected);
  const roomy = cborCodec.encodeWithRoom!(value, 5);
  assertSameBytes(roomy.subarray(5), expected);
  return expected;
}

/** The codec (fast path first) and cborg alone end the same way for `body`; returns whether the fast path took it. */
function assertDecodesLikeCborg(body: Uint8Array): boolean {
  const expected = outcome(() => cborgCodec.decode(body));
  const actual = outcome(() => cborCodec.decode(body));
  if ("error" in expected) {
    assert.deepEqual(actual, expected, hexOf(body.subarray(0, 64)));
  } else {
    if ("error" in actual) assert.fail(`${hexOf(body.subarray(0, 64))}: threw ${actual.error.message}`);
    assertSameValue(actual.value, expected.value);
    assert.deepStrictEqual(actual.value, expected.value);
  }
  const fast = body.length === 0 ? DECLINED : decodeCommonBody(body);
  if (fast !== DECLINED) {
    assert.ok("value" in expected, `${hexOf(body.subarray(0, 64))}: the fast path decoded what cborg refuses`);
    assertSameValue(fast, expected.value);
  }
  return fast !== DECLINED;
}

/**
 * Whether a value's encoding is left to cborg by the fast decoder: a bigint
 * beyond 64 bits goes out as a tag, and a Map with a key that is not text
 * turns every map of the body into a Map.
 */
function decodesThroughCborg(value: unknown): boolean {
  if (typeof value === "bigint") return value >= 2n ** 64n || value < -(2n ** 64n);
  if (Array.isArray(value)) return value.some(decodesThroughCborg);
  if (value instanceof Map) {
    return [...value.keys()].some((key) => typeof key !== "string") || [...value.values()].some(decodesThroughCborg);
  }
  if (typeof value === "object" && value !== null) return Object.values(value).some(decodesThroughCborg);
  return false;
}

/** Random well-formed CBOR with heads of any width, invalid UTF-8, duplicate and other keys, tags now and then. */
function randomCbor(r: Random, depth = 0): number[] {
  const head = (major: number, n: number): number[] => {
    const width = n < 24 && r.chance(0.7) ? 0 : n < 256 && r.chance(0.6) ? 1 : n < 65536 && r.chance(0.6) ? 2 : 3;
    if (width === 0) return [(major << 5) | n];
    const size = 2 ** (width - 1);
    const out = [(major << 5) | (23 + width)];
    for (let i = size - 1; i >= 0; i--) out.push(Math.floor(n / 256 ** i) % 256);
    return out;
  };
  const leaf = depth > 4 || r.chance(0.4);
  switch (r.int(leaf ? 7 : 10)) {
    case 0:
      return head(0, r.chance(0.5) ? r.int(30) : r.int(2 ** 32));
    case 1:
      return head(1, r.chance(0.5) ? r.int(30) : r.int(2 ** 32));
    case 2: {
      const raw = Array.from(randomBytes(r, r.pick([0, 3, 24, 40])));
      return [...head(2, raw.length), ...raw];
    }
    case 3: {
      const text = r.chance(0.7) ? Array.from(new TextEncoder().encode(randomText(r).slice(0, 40))) : Array.from(
        randomBytes(r, r.int(40)),
      );
      return [...head(3, text.length), ...text];
    }
    case 4:
      return r.chance(0.5) ? [0xf4 + r.int(4)] : [r.pick([0xf9, 0xfa, 0xfb, 0xf9, 0xf9])]
        .flatMap((f) => [f, ...randomBytes(r, f === 0xf9 ? 2 : f === 0xfa ? 4 : 8)]);
    case 5: // 64-bit integers around 2^53 and 2^64
      return [r.pick([0x1b, 0x3b]), r.pick([0x00, 0x1f, 0x20, 0xff]), ...randomBytes(r, 7)];
    case 6:
      return r.pick([[0x40], [0x60], [0x80], [0xa0], [0x40], [0x60], [0x80], [0xa0], [0xe0], [0xf8, 0x20], [0xff]])
        .concat(r.chance(0.05) ? r.pick([[0xc1, 0x00], [0xc2, 0x41, 0x01], [0xd9, 0xd9, 0xf7, 0x01]]) : []);
    case 7: {
      const items = Array.from({ length: r.int(6) }, () => randomCbor(r, depth + 1));
      return r.chance(0.1) ? [0x9f, ...items.flat(), 0xff] : [...head(4, items.length), ...items.flat()];
    }
    default: {
      const count = r.int(5);
      const entries: number[] = [];
      for (let i = 0; i < count; i++) {
        const key = r.chance(0.9) ? Array.from(new TextEncoder().encode(r.pick(KEYS))) : null;
        entries.push(...(key === null ? randomCbor(r, 9) : [...head(3, key.length), ...key]));
        entries.push(...randomCbor(r, depth + 1));
      }
      return r.chance(0.1) ? [0xbf, ...entries, 0xff] : [...head(5, count), ...entries];
    }
  }
}

function mutate(r: Random, body: Uint8Array): Uint8Array {
  const out = Array.from(body);
  for (let n = 1 + r.int(3); n > 0; n--) {
    const at = r.int(out.length + 1);
    switch (r.int(4)) {
      case 0:
        if (out.length > 0) out[at % out.length]! ^= 1 << r.int(8);
        break;
      case 1:
        out.length = at;
        break;
      case 2:
        out.splice(at, 0, r.int(256));
        break;
      default:
        if (out.length > 0) out[at % out.length] = r.pick([0x00, 0x18, 0x1b, 0x5f, 0x7f, 0x9f, 0xbf, 0xc2, 0xf7, 0xff]);
    }
  }
  return new Uint8Array(out);
}

describe("the fast encoder", () => {
  it("writes cborg's bytes for every edge number and bigint", () => {
    for (const value of [...EDGE_NUMBERS, ...EDGE_BIGINTS]) assertEncodesLikeCborg(value);
    for (let e = -160; e <= 140; e++) {
      for (const m of [1, 1.5, 1 + 2 ** -10, 1 + 2 ** -11, 1 + 2 ** -23, 1 + 2 ** -24, 1.75]) {
        assertEncodesLikeCborg(m * 2 ** e);
        assertEncodesLikeCborg(-m * 2 ** e);
      }
    }
  });

  it("writes cborg's bytes for text: every UTF-8 length, lone surrogates, long text", () => {
    for (const piece of TEXT_PIECES) {
      for (const size of [1, 7, 8, 9, 22, 23, 24, 63, 64, 65, 85, 86, 87, 100, 21845, 21846, 30000]) {
        assertEncodesLikeCborg(piece.repeat(size));
        assertEncodesLikeCborg("x".repeat(size) + piece);
      }
    }
    assertEncodesLikeCborg("\ud800\ud800\udc00\udc00");
    assertEncodesLikeCborg("a".repeat(70000));
  });

  it("writes cborg's bytes for thousands of random values", () => {
    const r = new Random(9);
    for (let i = 0; i < 3000; i++) assertEncodesLikeCborg(randomValue(r));
  });

  it("sorts keys as cborg does: integer-like, non-ASCII and lone-surrogate keys, Maps of mixed keys", () => {
    assertEncodesLikeCborg({ b: 1, a: 2, 10: 3, 2: 4, aa: 5, é: 6, f: 7, "\uffff": 8, "😀": 9, "\ud800": 10 });
    assertEncodesLikeCborg(new Map<unknown, unknown>([["b", 1], [-1, 2], [3, 3], [-20, 4], [0, 5], ["", 6]]));
    const many = new Random(1);
    const wide = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [randomKey(many) + i, i]));
    assertEncodesLikeCborg(wide);
    assertEncodesLikeCborg([wide, { ...wide, extra: 1 }]);
    const keys = Object.keys(Object.fromEntries(KEYS.map((key) => [key, 0])));
    for (let i = 0; i < 50; i++) {
      const r = new Random(i);
      const object: Record<string, number> = {};
      for (const key of keys.toSorted(() => r.next() - 0.5)) object[key] = r.int(5);
      assertEncodesLikeCborg(object);
    }
  });

  it("writes cborg's bytes for runs of objects of the same shapes, more shapes than it remembers", () => {
    const r = new Random(3);
    const shapes = Array.from({ length: 40 }, (_, i) => Array.from({ length: 1 + (i % 7) }, () => randomKey(r)));
    const records = Array.from({ length: 400 }, (_, i) => {
      const record: Record<string, unknown> = {};
      for (const key of shapes[(i * 7) % (i < 200 ? 3 : 40)]!) record[key] = randomValue(r, 4);
      return record;
    });
    assertEncodesLikeCborg(records);
    for (const record of records) assertEncodesLikeCborg(record);
  });

  it("writes the values it declines through cborg: same bytes, or the same UsageError", () => {
    class Point {
      x = 1;
      y = [2];
    }
    const cyclic: unknown[] = [1];
    cyclic.push([cyclic]);
    let deep: unknown = 1;
    for (let i = 0; i < 200; i++) deep = i % 2 ? [deep] : { d: deep };
    const holey = [1, , 3];
    class List extends Array {}
    class Dict extends Map<string, number> {}
    const declined: unknown[] = [
      new Point(),
      Object.create(null),
      Object.assign(Object.create(null), { b: 1, a: [2] }),
      { constructor: 1, a: 2 },
      new Date(0),
      new Set([1]),
      /x/,
      new Error("e"),
      () => 1,
      Symbol("s"),
      [1, Symbol("s")],
      { toJSON: () => 1 },
      { a: new Date(0) },
      cyclic,
      deep,
      holey,
      List.from([1, 2]),
      new Dict([["a", 1]]),
      new Map<unknown, unknown>([[1.5, 1], ["a", 2]]),
      new Map<unknown, unknown>([[2n ** 70n, 1]]),
      new Map<unknown, unknown>([[[1], 1], [null, 2]]),
      new Map<unknown, unknown>([[true, 1], [undefined, 2], [-(2 ** 60), 3]]),
      new Tagged(1, 0),
      [new Tagged(1, 0)],
      Object(1),
      Object("text"),
      new SharedArrayBuffer(2),
      { [Symbol.toStringTag]: "Uint8Array", length: 1 },
      Object.fromEntries([["\ud800", 1], ["\udbff", 2]]), // two keys with the same UTF-8: cborg warns, keeps the order
    ];
    if ("Float16Array" in globalThis) {
      declined.push(new (globalThis as unknown as { Float16Array: typeof Float32Array }).Float16Array([1, 2]));
    }
    const warn = console.warn;
    console.warn = () => {};
    try {
      for (const [i, value] of declined.entries()) {
        const expected = outcome(() => hexOf(cborgCodec.encode(value)));
        assert.deepEqual(outcome(() => hexOf(cborCodec.encode(value))), expected, `declined[${i}]`);
      }
    } finally {
      console.warn = warn;
    }
    assert.equal(encodeCommonValue(new Point()), null);
    // From 64 KiB on, cborg's result buffer (not zeroed first) is the faster one.
    assertEncodesLikeCborg({ bytes: new Uint8Array(65535).fill(1), n: 1 });
    const huge = { bytes: new Uint8Array(65536).fill(2), n: 1 };
    assert.equal(encodeCommonValue(huge), null);
    assertSameBytes(cborCodec.encode(huge), cborgCodec.encode(huge));
    assert.equal(encodeCommonValue(deep), null);
  });

  it("gives a value holding a getter that encodes to cborg, and leaves the next value unharmed", () => {
    const value = {
      get inner() {
        return hexOf(cborCodec.encode({ x: [1, 2] }));
      },
      big: new Uint8Array(5000).fill(7),
    };
    assert.equal(hexOf(cborCodec.encode(value)), hexOf(cborgCodec.encode(value)));
    assertEncodesLikeCborg({ after: "ok", bytes: new Uint8Array(3000).fill(1) });
    const throwing = {
      get a(): never {
        throw new RangeError("from the getter");
      },
    };
    assert.throws(() => cborCodec.encode(throwing), { name: "UsageError", code: "ERR_ENCODE" });
  });
});

describe("the fast decoder", () => {
  it("returns cborg's values for the encodings of thousands of random values, and takes them all", () => {
    const r = new Random(17);
    for (let i = 0; i < 3000; i++) {
      const value = randomValue(r);
      const body = cborgCodec.encode(value);
      const taken = assertDecodesLikeCborg(body);
      assert.ok(taken || decodesThroughCborg(value), `declined ${hexOf(body.subarray(0, 64))}`);
    }
  });

  it("returns cborg's values for every half float, and for heads of every width", () => {
    for (let half = 0; half < 0x10000; half++) assertDecodesLikeCborg(new Uint8Array([0xf9, half >> 8, half & 0xff]));
    for (
      const hex of [
        "1b001fffffffffffff",
        "1b0020000000000000",
        "3b001ffffffffffffe",
        "3b001fffffffffffff",
        "3b0020000000000000",
        "1bffffffffffffffff",
        "3bffffffffffffffff",
        "1800",
        "190000",
        "1a00000001",
        "1b0000000000000001",
        "5b000000000000000161",
        "7a0000000161",
        "9b000000000000000101",
        "b90001616101",
        "fa80000000",
        "fb8000000000000000",
        "fa7fc00001",
        "63efbbbf", // a byte order mark alone: TextDecoder drops it
        "78206162636465666768696a6b6c6d6e6f707172737475767778797a303132333435",
        "62c328",
        "a2695f5f70726f746f5f5f016161a0",
        "a2616101695f5f70726f746f5f5fa1617802", // {a: 1, __proto__: {x: 2}}, an own key on every runtime
      ]
    ) assert.ok(assertDecodesLikeCborg(bytes(hex)), hex);
  });

  it("leaves to cborg what it does not read, which then decodes or fails as before", () => {
    for (
      const hex of [
        "c24101",
        "d9d9f7a1616101",
        "d9d9f7",
        "9f01ff",
        "bf616101ff",
        "5f4101ff",
        "a10102",
        "a2616101616102",
        "a16161ff",
        "f820",
        "e0",
        "ff",
        "1c",
        "0101",
        "82",
        "5b0000000100000000",
        "9b0000000100000000",
        "7b00000000000000ff",
        "1b00000000000000",
      ]
    ) {
      assert.equal(decodeCommonBody(bytes(hex)), DECLINED, hex);
      assertDecodesLikeCborg(bytes(hex));
    }
    let deep = "01";
    for (let i = 0; i < 100; i++) deep = `81${deep}`;
    assert.equal(decodeCommonBody(bytes(deep)), DECLINED);
    assertDecodesLikeCborg(bytes(deep));
  });

  it("agrees with cborg on random CBOR, on random bytes and on mutations of valid bodies", () => {
    const r = new Random(23);
    let taken = 0;
    for (let i = 0; i < 4000; i++) {
      const body = new Uint8Array(randomCbor(r));
      if (assertDecodesLikeCborg(body)) taken++;
      assertDecodesLikeCborg(mutate(r, body));
    }
    assert.ok(taken > 1000, `the fast path took only ${taken} of 4000 random bodies`);
    for (let i = 0; i < 1500; i++) {
      assertDecodesLikeCborg(randomBytes(r, 1 + r.int(12)));
      assertDecodesLikeCborg(mutate(r, cborgCodec.encode(randomValue(r, 3))));
    }
  });

  it("decodes from Buffers, views with an offset and Uint8Array subclasses as cborg does", () => {
    class Bytes extends Uint8Array {}
    const r = new Random(5);
    for (let i = 0; i < 200; i++) {
      const body = cborgCodec.encode(randomValue(r));
      const padded = new Uint8Array(body.length + 7);
      padded.set(body, 3);
      for (const input of [Buffer.from(body), padded.subarray(3, 3 + body.length), new Bytes(body)]) {
        assertDecodesLikeCborg(input);
      }
    }
    const fromBuffer = cborCodec.decode(Buffer.from("8243010203a0", "hex")) as [Uint8Array];
    assert.equal(Object.getPrototypeOf(fromBuffer[0]), Uint8Array.prototype);
    assert.equal(Object.getPrototypeOf(cborCodec.decode(new Bytes([0x41, 0x07]))), Bytes.prototype);
  });

  it("copies byte strings out of the body", () => {
    const body = bytes("824301020343040506");
    const decoded = decodeCommonBody(body) as Uint8Array[];
    body.fill(0);
    assert.deepStrictEqual(decoded, [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5, 6])]);
    assert.equal(decoded[0]!.buffer.byteLength, 3);
  });
});
