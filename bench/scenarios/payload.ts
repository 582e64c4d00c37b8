/**
 * The payloads every scenario echoes, and their checks. A small payload is
 * 48 bytes that carry a tag (the call's number), so a reply that belongs to
 * another call, or is damaged, is caught: the raw floor frames it into 64
 * bytes (4-byte length, 12 bytes where peerlink has its header, the 48
 * bytes), peerlink sends it as a CBOR byte string (a 66-byte frame), and
 * json-rpc-2.0 as a 48-character string.
 *
 * @module
 */

import { readU32, writeU32 } from "./u32.ts";

/** Bytes in a small payload. */
export const SMALL_PAYLOAD_SIZE = 48;

/** Bytes in a bulk payload (1 MiB). */
export const BULK_PAYLOAD_SIZE: number = 1 << 20;

/** The small payload of `tag`: the tag as a u32 (little-endian), then bytes that depend on it. */
export function smallPayload(tag: number): Uint8Array {
  const bytes = new Uint8Array(SMALL_PAYLOAD_SIZE);
  writeSmallPayload(bytes, 0, tag);
  return bytes;
}

/** Writes the small payload of `tag` into `target` at `offset`. */
export function writeSmallPayload(target: Uint8Array, offset: number, tag: number): void {
  writeU32(target, offset, tag);
  for (let i = 4; i < SMALL_PAYLOAD_SIZE; i++) target[offset + i] = (tag + i) & 0xff;
}

/**
 * Reads the tag of a small payload at `offset` of `bytes` and checks the rest of it.
 *
 * @throws Error when the bytes are not the payload of the tag they start with.
 */
export function readSmallPayload(bytes: Uint8Array, offset = 0): number {
  if (bytes.length - offset !== SMALL_PAYLOAD_SIZE) {
    throw new Error(`Expected a ${SMALL_PAYLOAD_SIZE}-byte payload, got ${bytes.length - offset} bytes`);
  }
  const tag = readU32(bytes, offset);
  for (let i = 4; i < SMALL_PAYLOAD_SIZE; i++) {
    if (bytes[offset + i] !== ((tag + i) & 0xff)) throw new Error(`The payload of call ${tag} came back damaged`);
  }
  return tag;
}

/** The small payload of `tag` as text (for JSON): the tag in decimal, padded to 48 characters. */
export function smallText(tag: number): string {
  return String(tag).padStart(SMALL_PAYLOAD_SIZE, "-");
}

/**
 * Reads the tag of a small text payload.
 *
 * @throws Error when the value is not a text payload.
 */
export function readSmallText(value: unknown): number {
  if (typeof value !== "string" || value.length !== SMALL_PAYLOAD_SIZE) {
    throw new Error(`Expected a ${SMALL_PAYLOAD_SIZE}-character string, got ${JSON.stringify(value)}`);
  }
  const tag = Number(value.replace(/^-+/, ""));
  if (!Number.isInteger(tag) || smallText(tag) !== value) throw new Error(`A damaged text payload: ${value}`);
  return tag;
}

/** A bulk payload of `size` bytes whose content depends on `tag`. */
export function bulkPayload(size: number, tag: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + tag) & 0xff;
  return bytes;
}

/**
 * Checks that a bulk reply is byte for byte what was sent.
 *
 * @throws Error naming the first difference.
 */
export function checkBulk(received: Uint8Array, sent: Uint8Array): void {
  if (received.length !== sent.length) {
    throw new Error(`A bulk echo returned ${received.length} bytes instead of ${sent.length}`);
  }
  for (let i = 0; i < sent.length; i++) {
    if (received[i] !== sent[i]) throw new Error(`A bulk echo differs at byte ${i}`);
  }
}
