/**
 * `npm run demo`: serves the demo methods from Deno, then calls them from Bun
 * and from Node with the `peerlink` CLI, printing each step.
 *
 * @module
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string): string => join(root, "node_modules", ".bin", name);
const dir = mkdtempSync(join(tmpdir(), "peerlink-demo-"));
const address = `unix:${join(dir, "demo.sock")}`;

const say = (text: string): void => console.log(`\n\u001b[1m▶ ${text}\u001b[0m`);
const indent = (
  text: string,
  prefix: string,
): string => (text ? `${text.replace(/\n$/, "").replace(/^/gm, prefix)}\n` : "");

function waitForLine(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Uint8Array) => {
      output += new TextDecoder().decode(chunk);
      process.stdout.write(indent(new TextDecoder().decode(chunk), "  [deno server] "));
      if (output.includes(text)) resolve();
    });
    child.once("exit", () => reject(new Error(`The server exited before printing "${text}"`)));
  });
}

function cli(runtime: "bun" | "node", ...args: string[]): void {
  const command = runtime === "bun"
    ? [bin("bun"), join(root, "cli", "main.ts")]
    : [bin("node"), "--no-warnings", join(root, "cli", "main.ts")];
  console.log(
    `  $ ${runtime} cli.ts ${args.map((a) => (a.includes(" ") || a.includes("[") ? `'${a}'` : a)).join(" ")}`,
  );
  const result = spawnSync(command[0]!, [...command.slice(1), ...args], { encoding: "utf8" });
  process.stdout.write(indent(result.stdout, "    "));
  process.stdout.write(indent(result.stderr, "    "));
  if (result.status !== 0 && !args.includes("nope")) throw new Error(`${runtime} exited with ${result.status}`);
}

say(`Starting a peerlink server in Deno on ${address}`);
const server = spawn(bin("deno"), ["run", "-A", join(root, "cli", "main.ts"), "serve", address], {
  stdio: ["ignore", "pipe", "inherit"],
});
try {
  await waitForLine(server, "serving");
  for (const runtime of ["bun", "node"] as const) {
    say(`Calling it from ${runtime === "bun" ? "Bun" : "Node"}`);
    cli(runtime, "call", address, "runtime");
    cli(runtime, "call", address, "add", "[20, 22]");
    cli(runtime, "call", address, "echo", '{"hello": "from ' + runtime + '"}');
    cli(runtime, "stream", address, "count", "3");
  }
  say("An unknown method is a typed error on stderr with a non-zero exit code");
  cli("node", "call", address, "nope");
  say("Done: one Deno server, answered Bun and Node clients over a Unix socket.");
} finally {
  server.kill("SIGTERM");
  await new Promise((resolve) => server.once("exit", resolve));
  rmSync(dir, { recursive: true, force: true });
}
