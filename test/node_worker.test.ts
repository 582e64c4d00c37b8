import assert from "node:assert/strict";
import { it } from "node:test";
import { isCompiled, runtimeName } from "./_helpers.ts";

it(
  "refuses seqpacket sockets in a Node worker thread with ERR_UNSUPPORTED_PLATFORM instead of crashing later",
  { skip: runtimeName !== "node" ? "Node worker threads only" : false },
  async () => {
    const { Worker } = await import("node:worker_threads");
    const modUrl = new URL(isCompiled ? "../peer.js" : "../peer.ts", import.meta.url).href;
    const code = `
      import { parentPort } from "node:worker_threads";
      const { transportPair } = await import(${JSON.stringify(modUrl)});
      try { await transportPair(); parentPort.postMessage("no error"); }
      catch (error) { parentPort.postMessage(error.code); }
    `;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
    // Both listeners go on at once: a worker that exits right after posting has its message drained and its
    // exit emitted in one go, and an exit listener added after the message arrived would never be called.
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    const message = await new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    const exitCode = await exited;
    assert.equal(message, "ERR_UNSUPPORTED_PLATFORM");
    assert.equal(exitCode, 0);
  },
);
