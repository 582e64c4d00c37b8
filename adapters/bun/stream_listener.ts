/**
 * How Bun binds a Unix stream listener (`Bun.listen`) for the shared
 * listener skeleton in `src/transport/unix_listener.ts`: guarded against
 * spinning at the descriptor limit (`../listener_guard.ts`), with the peer's
 * credentials on every accepted socket.
 *
 * @module
 */

import { AcceptQueue } from "../../src/transport/accept_queue.ts";
import type { ByteStream } from "../../src/transport/types.ts";
import type { BoundSocket, UnixSocketOps } from "../../src/transport/unix_listener.ts";
import { bunGlobal, watched } from "./bun_api.ts";
import { bunStreamCredentials } from "./credentials.ts";
import { bunLibcIfAvailable } from "./lazy_libc.ts";
import { GuardedListener } from "../listener_guard.ts";
import { nodeSocketFiles } from "../node_fs.ts";
import { BunSocketStream, type SocketState, streamHandlers, unixInfo } from "./stream_socket.ts";
import { probeBunUnixPath } from "./unix_probe.ts";

/** Serves a Unix stream socket Bun binds (`{ unix }`) or one that already listens (`{ fd }`). */
async function serve(target: { unix: string } | { fd: number }, address: string): Promise<BoundSocket<ByteStream>> {
  const [read, libc] = await Promise.all([bunStreamCredentials.reader(), bunLibcIfAvailable()]);
  const accepted = new AcceptQueue<BunSocketStream>();
  let guarded: GuardedListener | undefined;
  const socket = streamHandlers((socket) => {
    guarded?.accepted();
    const stream = new BunSocketStream(socket, unixInfo(socket, { transport: "unix", localAddress: address }, read));
    socket.data = { stream };
    accepted.push(stream);
  });
  const bun = bunGlobal();
  const server = watched(
    "unix" in target ? bun.listen<SocketState>({ unix: target.unix, socket }) : bun.listen({ fd: target.fd, socket }),
  );
  const listener = guarded = new GuardedListener(server, (fd) => watched(bunGlobal().listen({ fd, socket })), libc);
  return {
    accept: () => accepted.next(),
    close() {
      accepted.end((stream) => void stream.close());
      listener.stop();
    },
  };
}

/** Bun's Unix stream listener operations. */
export const bunStreamListener: UnixSocketOps<ByteStream> = {
  files: nodeSocketFiles,
  bind: (path, address) => serve({ unix: path }, address),
  adopt: (fd, address) => serve({ fd }, address),
  // Bun's own connect cannot tell a busy or other-type socket from a stale one: the kernel can.
  isStale: async (path) => (await probeBunUnixPath(path)) === "ECONNREFUSED",
};
