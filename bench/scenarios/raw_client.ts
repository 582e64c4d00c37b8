/**
 * The raw floor's client side, the same for every socket API: a
 * `BenchConnection` over anything that writes bytes and is fed the bytes it
 * reads. Replies come in order, so the answer to the oldest request is the
 * next frame; that is all the bookkeeping the floor does.
 *
 * @module
 */

import { readSmallPayload, SMALL_PAYLOAD_SIZE, writeSmallPayload } from "./payload.ts";
import { RAW_PREFIX, rawFrame, RawFrameReader, RawOp } from "./raw_frames.ts";
import { readU32, writeU32 } from "./u32.ts";
import type { BenchConnection } from "./types.ts";

/** What a raw connection needs from a socket API. */
export interface RawSink {
  /** Writes one frame (queued by the socket API when it cannot take it yet). */
  write(bytes: Uint8Array): void;
  /** Closes the socket. */
  close(): Promise<void>;
}

interface Waiting {
  /** Called with each reply frame until it returns true (the request is answered). */
  take(frame: Uint8Array): boolean;
  fail(error: unknown): void;
}

/** A raw-floor client connection; the socket API feeds it with `receive` and ends it with `closed`. */
export class RawClientConnection implements BenchConnection {
  readonly #sink: RawSink;
  readonly #reader = new RawFrameReader();
  readonly #waiting: Waiting[] = [];
  readonly #onFrame = (frame: Uint8Array): void => {
    const head = this.#waiting[0];
    if (head === undefined) throw new Error("A raw reply nobody asked for");
    if (head.take(frame)) this.#waiting.shift();
  };

  /** Wraps a socket API's writer. */
  constructor(sink: RawSink) {
    this.#sink = sink;
  }

  /** Feeds bytes read from the socket. */
  receive(chunk: Uint8Array): void {
    this.#reader.push(chunk, this.#onFrame);
  }

  /** Fails every request still waiting (the socket closed). */
  closed(error: unknown): void {
    for (const waiting of this.#waiting.splice(0)) waiting.fail(error);
  }

  echo(tag: number): Promise<number> {
    const frame = rawFrame(RawOp.echo, SMALL_PAYLOAD_SIZE);
    writeSmallPayload(frame, RAW_PREFIX, tag);
    return this.#request(frame, (reply, resolve) => {
      resolve(readSmallPayload(reply, RAW_PREFIX));
      return true;
    });
  }

  stream(count: number): Promise<{ count: number; sum: number }> {
    const frame = rawFrame(RawOp.stream, 4);
    writeU32(frame, RAW_PREFIX, count);
    const result = { count: 0, sum: 0 };
    return this.#request(frame, (reply, resolve) => {
      if (reply[4] === RawOp.end) {
        resolve(result);
        return true;
      }
      result.count++;
      result.sum += readU32(reply, RAW_PREFIX);
      return false;
    });
  }

  bulk(payload: Uint8Array): Promise<Uint8Array> {
    const frame = rawFrame(RawOp.echo, payload.length);
    frame.set(payload, RAW_PREFIX);
    return this.#request(frame, (reply, resolve) => {
      resolve(reply.subarray(RAW_PREFIX));
      return true;
    });
  }

  close(): Promise<void> {
    return this.#sink.close();
  }

  #request<T>(frame: Uint8Array, take: (reply: Uint8Array, resolve: (value: T) => void) => boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push({
        take: (reply) => {
          try {
            return take(reply, resolve);
          } catch (error) {
            reject(error);
            return true;
          }
        },
        fail: reject,
      });
      this.#sink.write(frame);
    });
  }
}
