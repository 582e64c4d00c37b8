/**
 * The raw floor's server side, the same for every socket API: each
 * complete frame is answered with its own write, with no batching.
 *
 * @module
 */

import { RAW_PREFIX, rawFrame, rawItem, RawOp } from "./raw_frames.ts";
import { readU32 } from "./u32.ts";

/**
 * Answers one frame: an echo frame goes back as it came, a stream frame
 * gets its count of item frames and an end frame.
 *
 * @param frame A complete frame, length prefix included.
 * @param write Writes one frame to the socket (queued by the socket API when it cannot take it yet).
 * @throws Error on a frame of an unknown kind.
 */
export function answerRawFrame(frame: Uint8Array, write: (bytes: Uint8Array) => void): void {
  const op = frame[4];
  if (op === RawOp.echo) {
    write(frame);
  } else if (op === RawOp.stream) {
    const count = readU32(frame, RAW_PREFIX);
    for (let i = 0; i < count; i++) write(rawItem(i));
    write(rawFrame(RawOp.end, 0));
  } else {
    throw new Error(`A raw frame of unknown kind ${op}`);
  }
}
