/**
 * Peer credentials (SO_PEERCRED) on Unix stream sockets: every accepted and
 * connected `unix:` connection carries the other process's pid, uid and
 * gid, on path and abstract addresses, within one process and with a child
 * of every runtime (and, when the tests run as root, a child running as
 * another user). Where the FFI is unavailable (Node without koffi, Deno
 * without `--allow-ffi`) connections work without credentials and
 * `credentialsUnavailable` says why.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { describe, it } from "node:test";
import { loadRuntimeAdapter } from "../adapters/detect.ts";
import { parseAddress, type SocketAddress } from "../src/transport/address.ts";
import type { RuntimeAdapter } from "../src/transport/runtime_adapter.ts";
import type { ByteStream, Listener, PeerCredentials } from "../src/transport/types.ts";
import { abstractName, repoRoot, run, runtimeName, runtimes, scriptCommand, tempDir } from "./_helpers.ts";

const runtime: RuntimeAdapter = await loadRuntimeAdapter();
const self = runtime.processIds();
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((path) => existsSync(path));
const NOBODY = 65534;

function unixAddress(text: string): SocketAddress {
  return parseAddress(text) as SocketAddress;
}

/** Reads one line (without its newline) from a stream. */
async function readLine(stream: ByteStream): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  while (!text.includes("\n")) {
    const chunk = await stream.read();
    if (chunk === null) throw new Error(`The stream ended before a whole line arrived: ${JSON.stringify(text)}`);
    text += decoder.decode(chunk, { stream: true });
  }
  return text.slice(0, text.indexOf("\n"));
}

/** What a child reports about itself and about the server. */
interface PeerReport {
  ids: PeerCredentials;
  saw: PeerCredentials | null;
}

/**
 * Lets a child connect to `listener`, and returns what each side saw of the other.
 *
 * @param command The child's command line (it runs credentials_peer.ts with the address).
 */
async function exchangeWithChild(
  listener: Listener<ByteStream>,
  command: [string, string[]],
): Promise<{ server: PeerCredentials | undefined; child: PeerReport }> {
  const accepting = listener.accept();
  const result = run(command, 30_000);
  const stream = await Promise.race([
    accepting,
    result.then((exited) => {
      throw new Error(`The child exited before it connected: ${JSON.stringify(exited)}`);
    }),
  ]);
  try {
    const report = JSON.parse(await readLine(stream!)) as PeerReport;
    return { server: stream!.info.credentials, child: report };
  } finally {
    await stream!.close();
    const exited = await result;
    assert.equal(exited.code, 0, `the child failed: ${exited.stderr}`);
  }
}

describe("peer credentials of unix: stream connections", () => {
  it(`are available in ${runtimeName} with the FFI at hand`, () => {
    assert.equal(runtime.credentialsUnavailable("unix"), undefined);
    assert.equal(runtime.credentialsUnavailable("seqpacket"), undefined);
  });

  it("are this process's ids, in one process, on a path and an abstract address", async () => {
    const dir = tempDir();
    try {
      for (const address of [`unix:${join(dir.path, "credentials.sock")}`, `unix:@${abstractName("credentials")}`]) {
        const listener = await runtime.listenStream(unixAddress(address), {});
        const [accepted, connected] = await Promise.all([
          listener.accept(),
          runtime.connectStream(unixAddress(address)),
        ]);
        assert.deepEqual(accepted!.info.credentials, self, `the server's view on ${address}`);
        assert.deepEqual(connected.info.credentials, self, `the client's view on ${address}`);
        assert.equal(self.pid, process.pid);
        await Promise.all([accepted!.close(), connected.close()]);
        await listener.close();
      }
    } finally {
      dir.cleanup();
    }
  });

  for (const peer of runtimes) {
    it(`are the other process's ids with a ${peer} child, on a path and an abstract address`, {
      timeout: 60_000,
    }, async () => {
      const dir = tempDir();
      try {
        for (const address of [`unix:${join(dir.path, "child.sock")}`, `unix:@${abstractName(`child-${peer}`)}`]) {
          const listener = await runtime.listenStream(unixAddress(address), {});
          try {
            const command = scriptCommand(peer, "test/fixtures/adapters/credentials_peer.ts", [address]);
            const { server, child } = await exchangeWithChild(listener, command);
            assert.notEqual(child.ids.pid, process.pid, "the child is another process");
            assert.deepEqual(server, child.ids, `the server sees the ${peer} child's ids on ${address}`);
            assert.deepEqual(child.saw, self, `the ${peer} child sees this process's ids on ${address}`);
          } finally {
            await listener.close();
          }
        }
      } finally {
        dir.cleanup();
      }
    });
  }

  it("are another user's ids with a child running as nobody", {
    skip: process.getuid?.() !== 0 ? "needs root, to start a child as another user" : !SETPRIV ? "no setpriv" : false,
    timeout: 60_000,
  }, async () => {
    // An abstract address: a socket file in a private temporary directory would be out of the other user's reach.
    const address = `unix:@${abstractName("nobody")}`;
    const listener = await runtime.listenStream(unixAddress(address), {});
    try {
      const [node, args] = scriptCommand("node", "test/fixtures/adapters/credentials_peer.ts", [address]);
      const command: [string, string[]] = [SETPRIV!, [
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        "--clear-groups",
        node,
        ...args,
      ]];
      const { server, child } = await exchangeWithChild(listener, command);
      assert.deepEqual(child.ids.uid, NOBODY);
      assert.deepEqual(server, child.ids, "the server sees the other user's pid, uid and gid");
      assert.deepEqual(child.saw, self, "the child sees root's");
    } finally {
      await listener.close();
    }
  });
});

describe("without the FFI, unix: connections work and carry no credentials", () => {
  const report = "test/fixtures/adapters/credentials_report.ts";

  function assertReport(stdout: string, reason: RegExp): void {
    const outcome = JSON.parse(stdout) as Record<string, unknown>;
    assert.match(String(outcome.unix), reason, 'credentialsUnavailable("unix") says why');
    assert.match(String(outcome.seqpacket), reason, 'credentialsUnavailable("seqpacket") says why');
    assert.equal(outcome.server, null, "the accepted connection has no credentials");
    assert.equal(outcome.client, null, "the connected one neither");
    assert.equal(outcome.bytes, "ping", "and bytes still flow");
  }

  it("Deno without --allow-ffi", { timeout: 60_000 }, async () => {
    const deno = join(repoRoot, "node_modules", ".bin", "deno");
    const permissions = ["--allow-read", "--allow-write", "--allow-net", "--allow-env", "--allow-sys"];
    const result = await run([deno, ["run", "--no-check", ...permissions, join(repoRoot, report)]]);
    assert.equal(result.code, 0, result.stderr);
    assertReport(result.stdout, /Deno without --allow-ffi/);
  });

  it("Node without koffi", { timeout: 60_000 }, async () => {
    const result = await run(scriptCommand("node", "test/fixtures/adapters/without_koffi_report.ts"));
    assert.equal(result.code, 0, result.stderr);
    assertReport(result.stdout, /koffi/);
  });
});
