/**
 * Socket activation: a server of the runtime running the tests, started by
 * `systemd-socket-activate` (Debian's `systemd` package), serves the socket
 * it was passed (`systemd:`, `systemd:NAME`, `fd:N`), leaves the socket
 * file in place (it is the launcher's), ignores sockets meant for another
 * process, refuses descriptors of the wrong kind, and tells the service
 * manager it is ready (`notify: true`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect } from "../mod.ts";
import { parseInheritedAddress, selectInheritedFd } from "../src/transport/socket_activation.ts";
import { run, type RunningProcess, runtimeName, scriptCommand, start, tempDir } from "./_helpers.ts";
import { openNotifyReceiver, sendDatagram } from "./fixtures/activation/unix_datagram.ts";

const LAUNCHER = "/usr/bin/systemd-socket-activate";
const SERVER = "test/fixtures/activation/server.ts";
const skip = existsSync(LAUNCHER) ? false : `${LAUNCHER} is not installed (Debian: apt install systemd)`;

/** Starts the launcher listening on `path`; the server starts on the first connection. */
async function launch(path: string, launcherOptions: string[], serverArgs: string[], shell?: string) {
  const [command, args] = scriptCommand(runtimeName, SERVER, serverArgs);
  const child = shell === undefined
    ? [command, ...args]
    : ["/bin/sh", "-c", `${shell} exec "$0" "$@"`, command, ...args];
  const running = start([LAUNCHER, ["-l", path, ...launcherOptions, "--", ...child]]);
  for (let waited = 0; !existsSync(path); waited += 20) {
    if (waited > 10_000) throw new Error(`${LAUNCHER} did not listen on ${path}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return running;
}

/** Connects once to start the server, which then fails; resolves with what it printed. */
async function failingStart(running: RunningProcess, path: string): Promise<string> {
  const socket = net.connect(path);
  socket.on("error", () => {});
  const result = await running.exited;
  socket.destroy();
  return result.stdout;
}

describe(`socket activation (${runtimeName})`, { skip }, () => {
  it("serves calls on the socket systemd passed, unsets LISTEN_*, and leaves the socket file on close", async () => {
    const dir = tempDir();
    const path = join(dir.path, "app.sock");
    const running = await launch(path, [], ["systemd:"]);
    try {
      const client = await connect(`unix:${path}`);
      assert.equal(await client.call("add", [2, 3]), 5);
      assert.deepEqual(await client.call("activationVariables"), []);
      assert.equal(await client.call("pid"), running.child.pid, "the launcher execs the server");
      assert.equal(await client.call("shutdown"), true);
      await client.close();
      const result = await running.exited;
      assert.match(result.stdout, /listening systemd:\n/);
      assert.match(result.stdout, /closed\n/);
      assert.ok(existsSync(path), "the socket file is the launcher's: it stays");
    } finally {
      await running.stop();
      dir.cleanup();
    }
  });

  it("chooses sockets by their LISTEN_FDNAMES names, and serves each", async () => {
    const dir = tempDir();
    const [web, admin] = [join(dir.path, "web.sock"), join(dir.path, "admin.sock")];
    const running = await launch(web, ["-l", admin, "--fdname=web:admin"], ["systemd:admin", "systemd:web"]);
    try {
      const [webClient, adminClient] = [await connect(`unix:${web}`), await connect(`unix:${admin}`)];
      assert.equal(await webClient.call("add", [1, 1]), 2);
      assert.equal(await adminClient.call("add", [2, 2]), 4);
      await adminClient.call("shutdown");
      await Promise.all([webClient.close(), adminClient.close()]);
      assert.match((await running.exited).stdout, /listening systemd:admin\nlistening systemd:web\n/);
    } finally {
      await running.stop();
      dir.cleanup();
    }
  });

  it("refuses a name that was not passed", async () => {
    const dir = tempDir();
    const path = join(dir.path, "other.sock");
    const running = await launch(path, ["--fdname=web"], ["systemd:admin"]);
    try {
      assert.match(await failingStart(running, path), /error ERR_INVALID_ADDRESS .*no socket named "admin"/);
    } finally {
      await running.stop();
      dir.cleanup();
    }
  });

  it("ignores sockets meant for another process (LISTEN_PID)", async () => {
    const dir = tempDir();
    const path = join(dir.path, "pid.sock");
    const running = await launch(path, [], ["systemd:"], "LISTEN_PID=1");
    try {
      assert.match(await failingStart(running, path), /error ERR_INVALID_ADDRESS .*meant for pid 1 /);
    } finally {
      await running.stop();
      dir.cleanup();
    }
  });

  it("refuses systemd: when no sockets were passed, and a descriptor that is not a socket", async () => {
    const none = await run(scriptCommand(runtimeName, SERVER, ["systemd:"]));
    assert.match(none.stdout, /error ERR_INVALID_ADDRESS .*no sockets were passed/);
    // fd 0 is the child's stdin: a pipe (Node, Deno) or a connected socket pair (Bun), never listening.
    const stdin = await run(scriptCommand(runtimeName, SERVER, ["fd:0"]));
    assert.match(stdin.stdout, /error ERR_INVALID_ADDRESS .*descriptor 0 is (not a socket|not listening)/);
    const closed = await run(scriptCommand(runtimeName, SERVER, ["fd:900"]));
    assert.match(closed.stdout, /error ERR_INVALID_ADDRESS .*descriptor 900 is not open/);
  });

  it("refuses a datagram socket", async () => {
    const dir = tempDir();
    const path = join(dir.path, "dgram.sock");
    // `fd:3` needs no LISTEN_* at all; the launcher starts the server on the first datagram.
    const running = await launch(path, ["--datagram"], ["fd:3"]);
    try {
      await sendDatagram(path, "hello");
      const { stdout } = await running.exited;
      assert.match(stdout, /error ERR_INVALID_ADDRESS .*descriptor 3 is a Unix socket of type 2/);
    } finally {
      await running.stop();
      dir.cleanup();
    }
  });

  it("serves calls on a seqpacket socket systemd passed, and leaves the socket file on close", async () => {
    const dir = tempDir();
    const path = join(dir.path, "packets.sock");
    const running = await launch(path, ["--seqpacket"], ["systemd:"]);
    try {
      // The first connection starts the server; the launcher passes it the listening socket.
      const client = await connect(`seqpacket:${path}`, { handshakeTimeout: 10_000 });
      assert.equal(client.info.transport, "seqpacket");
      assert.equal(await client.call("add", [20, 22]), 42);
      assert.deepEqual(await client.call("activationVariables"), []);
      assert.equal(await client.call("pid"), running.child.pid, "the launcher execs the server");
      // A second connection is accepted by the adopted listener, not the launcher.
      const second = await connect(`seqpacket:${path}`);
      assert.equal(await second.call("add", [1, 1]), 2);
      await second.close();
      assert.equal(await client.call("shutdown"), true);
      await client.close();
      const result = await running.exited;
      assert.match(result.stdout, /listening systemd:\n/);
      assert.match(result.stdout, /closed\n/);
      assert.ok(existsSync(path), "the socket file is the launcher's: it stays");
    } finally {
      await running.stop();
      dir.cleanup();
    }
  });

  it("sends READY=1 to NOTIFY_SOCKET once it listens (notify: true)", async () => {
    const receiver = await openNotifyReceiver();
    const dir = tempDir();
    const path = join(dir.path, "notify.sock");
    const running = await launch(path, [`--setenv=NOTIFY_SOCKET=${receiver.address}`], ["systemd:", "--notify"]);
    try {
      const client = await connect(`unix:${path}`);
      assert.equal(await receiver.next(10_000), "READY=1");
      await client.call("shutdown");
      await client.close();
    } finally {
      receiver.close();
      await running.stop();
      dir.cleanup();
    }
  });
});

describe("inherited-socket addresses", () => {
  it("reads fd:N, systemd: and systemd:NAME, and refuses fd: without a number", () => {
    assert.deepEqual(parseInheritedAddress("fd:3"), { kind: "fd", fd: 3, shown: "fd:3" });
    assert.deepEqual(parseInheritedAddress("systemd:"), { kind: "systemd", shown: "systemd:" });
    assert.deepEqual(parseInheritedAddress("systemd:web"), { kind: "systemd", name: "web", shown: "systemd:web" });
    assert.equal(parseInheritedAddress("unix:/run/app.sock"), undefined);
    assert.throws(() => parseInheritedAddress("fd:three"), { code: "ERR_INVALID_ADDRESS" });
  });

  it("selects by LISTEN_FDNAMES and needs a name when several sockets were passed", () => {
    const environment = { pid: 42, listenPid: "42", listenFds: "2", listenFdNames: "web:admin" };
    assert.equal(selectInheritedFd({ kind: "systemd", name: "admin", shown: "systemd:admin" }, environment), 4);
    assert.throws(
      () => selectInheritedFd({ kind: "systemd", shown: "systemd:" }, environment),
      { code: "ERR_INVALID_ADDRESS", message: /2 sockets were passed; name one/ },
    );
    assert.throws(
      () => selectInheritedFd({ kind: "systemd", shown: "systemd:" }, { ...environment, listenFds: "0" }),
      { code: "ERR_INVALID_ADDRESS", message: /no sockets were passed/ },
    );
  });
});
