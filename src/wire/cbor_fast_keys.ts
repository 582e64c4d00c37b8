/**
 * The order in which cborg writes map keys that are text: shorter UTF-8
 * first, then bytewise (RFC 7049's canonical order), and, for plain objects,
 * the layout of a shape's keys (their order and encoded bytes), kept for the
 * few shapes seen last.
 *
 * @module
 */

import { headSize, MAJOR_TEXT, writeHeadInto } from "./cbor_fast_head.ts";

const utf8 = new TextEncoder();

/** An object shape's keys in cborg's order, and their encodings one after the other. */
export interface KeyLayout {
  /** The keys as `Object.keys` lists them. */
  readonly keys: readonly string[];
  /** The keys in cborg's order. */
  readonly sorted: readonly string[];
  /** The text items of `sorted`, head and UTF-8. */
  readonly encoded: Uint8Array;
  /** Where each one ends in `encoded`. */
  readonly ends: Int32Array;
}

/** Objects of the same shape come in runs (the items of an array, the calls of one method): keep a few layouts. */
const KEY_LAYOUTS = 16;
/** Objects with more keys than this are written key by key: {@link keyLayoutOf} is for the common small ones. */
export const MAX_LAYOUT_KEYS = 64;
const keyLayouts: (KeyLayout | undefined)[] = new Array(KEY_LAYOUTS).fill(undefined);
let nextKeyLayout = 0;

/**
 * The layout of an object's keys, from the cache when the same keys came
 * lately.
 *
 * @param keys The object's keys, as `Object.keys` lists them; at most {@link MAX_LAYOUT_KEYS}.
 * @returns The layout, or `null` when two keys have the same UTF-8 (lone
 * surrogates): cborg warns about those, and keeps them in the order given.
 *
 * @example
 * ```ts
 * import { keyLayoutOf } from "./cbor_fast_keys.ts";
 * console.assert(keyLayoutOf(["bb", "c", "a"])?.sorted.join() === "a,c,bb");
 * ```
 */
export function keyLayoutOf(keys: string[]): KeyLayout | null {
  for (let slot = 0; slot < KEY_LAYOUTS; slot++) {
    const layout = keyLayouts[slot];
    if (layout === undefined) break;
    const known = layout.keys;
    if (known.length !== keys.length) continue;
    let same = true;
    for (let i = 0; same && i < keys.length; i++) same = known[i] === keys[i];
    if (same) return layout;
  }
  const layout = makeKeyLayout(keys);
  if (layout !== null) {
    keyLayouts[nextKeyLayout] = layout;
    nextKeyLayout = (nextKeyLayout + 1) % KEY_LAYOUTS;
  }
  return layout;
}

function makeKeyLayout(keys: string[]): KeyLayout | null {
  const sorted = keys.slice();
  if (!sortTextKeys(sorted)) return null;
  const ends = new Int32Array(sorted.length);
  let size = 0;
  const parts = sorted.map((key, i) => {
    const bytes = utf8.encode(key);
    size += headSize(bytes.length) + bytes.length;
    ends[i] = size;
    return bytes;
  });
  const encoded = new Uint8Array(size);
  let at = 0;
  for (const bytes of parts) {
    at = writeHeadInto(encoded, at, MAJOR_TEXT, bytes.length);
    encoded.set(bytes, at);
    at += bytes.length;
  }
  return { keys, sorted, encoded, ends };
}

/**
 * Sorts text keys in place as cborg does: by UTF-8 length, then bytewise.
 *
 * @param keys Distinct keys.
 * @returns `false` (the order then undefined) when two keys have the same UTF-8, which takes lone surrogates.
 *
 * @example
 * ```ts
 * import { sortTextKeys } from "./cbor_fast_keys.ts";
 * const keys = ["é", "b", "aa", "a"];
 * console.assert(sortTextKeys(keys) && keys.join() === "a,b,aa,é");
 * ```
 */
export function sortTextKeys(keys: string[]): boolean {
  for (const key of keys) {
    for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) >= 0x80) return sortByUtf8(keys);
  }
  // ASCII: UTF-8 length is the string's length and bytewise order is JavaScript's string order.
  if (keys.length > 16) {
    keys.sort(compareAscii);
    return true;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && compareAscii(keys[j]!, key) > 0) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return true;
}

function compareAscii(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : 1);
}

/** Sorts keys with non-ASCII text by their UTF-8; `false` if two have the same. */
function sortByUtf8(keys: string[]): boolean {
  const encoded = new Map(keys.map((key) => [key, utf8.encode(key)]));
  let distinct = true;
  keys.sort((a, b) => {
    const x = encoded.get(a)!;
    const y = encoded.get(b)!;
    if (x.length !== y.length) return x.length - y.length;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    distinct = false;
    return 0;
  });
  return distinct;
}
