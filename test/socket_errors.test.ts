/**
 * One errno mapping for every transport: each failure condition, produced
 * for real in the runtime running the tests, gives the same error code on
 * `unix:` and on `seqpacket:` (see src/transport/socket_errors.ts). Runs as
 * root here, so permission errors cannot be produced and are not faked.
 */

import assert from "node:assert/strict";
import { linkSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { connect, listen, type PeerlinkError, type RpcServer } from "../mod.ts";
import { abstractName, tempDir } from "./_helpers.ts";

const transports = ["unix", "seqpacket"] as const;
type Transport = typeof transports[number];
const other: Record<Transport, Transport> = { unix: "seqpacket", seqpacket: "unix" };

const dir = tempDir();
const servers: RpcServer[] = [];
let counter = 0;

after(async () => {
  for (const server of servers) await server.close();
  dir.cleanup();
});

/** A fresh path in the temp directory. */
function freshPath(): string {
  return join(dir.path, `s${counter++}.sock`);
}

/** Starts a server that stays up until the end of the file. */
async function serve(address: string): Promise<void> {
  servers.push(await listen(address, { handlers: {} }));
}

/** Starts a server of `serverTransport` on a fresh path, then fails `operation` on that path over `transport`. */
async function nextToServer(
  serverTransport: Transport,
  transport: Transport,
  operation: (address: string) => Promise<unknown>,
): Promise<PeerlinkError> {
  const path = freshPath();
  await serve(`${serverTransport}:${path}`);
  return failure(operation(`${transport}:${path}`));
}

/** The error `operation` rejects with. */
async function failure(operation: Promise<unknown>): Promise<PeerlinkError> {
  const outcome = await operation.then(
    async (value) => {
      await (value as { close(): Promise<void> }).close();
      return undefined;
    },
    (error: unknown) => error as PeerlinkError,
  );
  assert.ok(outcome !== undefined, "the operation succeeded");
  return outcome;
}

/** A condition: how to produce it on one transport, and what it must give. */
interface Condition {
  name: string;
  produce(transport: Transport): Promise<PeerlinkError>;
  code: string;
  /** What the message must say, the same on both transports. */
  message: RegExp;
  /** True where the runtime's (or the kernel's) error is attached as `cause`. */
  hasCause: boolean;
}

const conditions: Condition[] = [
  {
    name: "listening in a directory that does not exist",
    produce: (transport) => failure(listen(`${transport}:${join(dir.path, "missing", "x.sock")}`)),
    code: "ERR_INVALID_ADDRESS",
    message: /the directory does not exist/,
    hasCause: true,
  },
  {
    name: "listening below a regular file",
    produce: (transport) => {
      const file = freshPath();
      writeFileSync(file, "a file, not a directory");
      return failure(listen(`${transport}:${join(file, "x.sock")}`));
    },
    code: "ERR_INVALID_ADDRESS",
    message: /not a directory/,
    hasCause: true,
  },
  {
    name: "listening where a live server is",
    produce: (transport) => nextToServer(transport, transport, (address) => listen(address)),
    code: "ERR_ADDRESS_IN_USE",
    message: /another server is accepting connections there/,
    hasCause: false,
  },
  {
    name: "listening on a live abstract name",
    produce: async (transport) => {
      const address = `${transport}:@${abstractName("in-use")}`;
      await serve(address);
      return failure(listen(address));
    },
    code: "ERR_ADDRESS_IN_USE",
    message: /the address is in use/,
    hasCause: true,
  },
  {
    name: "listening where a live server of the other socket type is",
    produce: (transport) => nextToServer(other[transport], transport, (address) => listen(address)),
    code: "ERR_ADDRESS_IN_USE",
    message: /another server is accepting connections there/,
    hasCause: false,
  },
  {
    name: "listening on a path that is a regular file",
    produce: (transport) => {
      const path = freshPath();
      writeFileSync(path, "not a socket");
      return failure(listen(`${transport}:${path}`));
    },
    code: "ERR_ADDRESS_IN_USE",
    message: /a file that is not a socket is in the way/,
    hasCause: false,
  },
  {
    name: "listening on a path longer than sun_path",
    produce: (transport) => failure(listen(`${transport}:/tmp/${"x".repeat(120)}`)),
    code: "ERR_PATH_TOO_LONG",
    message: /exceeds the 107-byte sun_path limit/,
    hasCause: false,
  },
  {
    name: "connecting to a path longer than sun_path",
    produce: (transport) => failure(connect(`${transport}:/tmp/${"x".repeat(120)}`)),
    code: "ERR_PATH_TOO_LONG",
    message: /exceeds the 107-byte sun_path limit/,
    hasCause: false,
  },
  {
    name: "connecting to a socket that does not exist",
    produce: (transport) => failure(connect(`${transport}:${freshPath()}`)),
    code: "ERR_CONNECTION_FAILED",
    message: /no socket exists there/,
    hasCause: true,
  },
  {
    name: "connecting in a directory that does not exist",
    produce: (transport) => failure(connect(`${transport}:${join(dir.path, "missing", "x.sock")}`)),
    code: "ERR_CONNECTION_FAILED",
    message: /no socket exists there/,
    hasCause: true,
  },
  {
    name: "connecting to an abstract name nobody listens on",
    produce: (transport) => failure(connect(`${transport}:@${abstractName("nobody")}`)),
    code: "ERR_CONNECTION_FAILED",
    message: /nobody accepts connections there/,
    hasCause: true,
  },
  {
    name: "connecting to a stale socket file",
    produce: async (transport) => {
      const path = freshPath();
      const stale = freshPath();
      const server = await listen(`${transport}:${path}`, { handlers: {} });
      // A second name of the socket outlives the server: a socket file nobody listens on.
      linkSync(path, stale);
      await server.close();
      return failure(connect(`${transport}:${stale}`));
    },
    code: "ERR_CONNECTION_FAILED",
    message: /nobody accepts connections there/,
    hasCause: true,
  },
  {
    name: "connecting to a server of the other socket type",
    produce: (transport) => nextToServer(other[transport], transport, (address) => connect(address)),
    code: "ERR_CONNECTION_FAILED",
    message: /the socket there is of another type/,
    hasCause: true,
  },
];

describe("socket errors are the same on unix: and seqpacket:", () => {
  mkdirSync(dir.path, { recursive: true });
  for (const condition of conditions) {
    it(`${condition.name} gives ${condition.code}`, async () => {
      for (const transport of transports) {
        const error = await condition.produce(transport);
        const what = `${transport}: ${error.message}`;
        assert.equal(error.name, "UsageError", what);
        assert.equal(error.code, condition.code, what);
        assert.match(error.message, condition.message, what);
        assert.equal(error.cause !== undefined, condition.hasCause, `${what}: cause ${String(error.cause)}`);
      }
    });
  }
});
