/**
 * A child process the runner watches: its stdout read as lines, its stderr
 * kept for the error report, a deadline after which it is killed, and a
 * registry of every child still alive so that an interrupted runner leaves
 * none behind.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";

/** Children not yet exited, killed by {@link killAll}. */
const alive = new Set<ChildProcess>();

/** The last bytes of stderr that are kept. */
const STDERR_KEPT = 8192;

/** Why a child failed: it crashed, hung, or said so. */
export class ChildFailure extends Error {
  /** The tail of the child's stderr. */
  readonly stderr: string;

  /** Names the child and says what happened. */
  constructor(message: string, stderr: string) {
    super(stderr.trim() === "" ? message : `${message}\n--- its stderr ---\n${stderr.trimEnd()}`);
    this.name = "ChildFailure";
    this.stderr = stderr;
  }
}

/** Options of {@link SupervisedProcess}. */
export interface SupervisedOptions {
  /** What the child is, for error messages ("node24 peerlink-unix server"). */
  label: string;
  /** Milliseconds until it is killed. */
  timeout: number;
  /** Working directory. */
  cwd: string;
  /** CPUs to pin it to with `taskset -c`, or undefined for none. */
  cpus?: string;
  /** Environment variables besides the runner's. */
  env?: Record<string, string>;
}

/** A running child process. */
export class SupervisedProcess {
  readonly #child: ChildProcess;
  readonly #label: string;
  readonly #lines: string[] = [];
  readonly #waiting: ((line: string | null) => void)[] = [];
  readonly #exited: Promise<number | null>;
  readonly #timer: ReturnType<typeof setTimeout>;
  #partial = "";
  #stdoutEnded = false;
  #stderr = "";
  #timedOut = false;

  /** Starts `executable` with `args`. */
  constructor(executable: string, args: readonly string[], options: SupervisedOptions) {
    this.#label = options.label;
    const [command, commandArgs] = options.cpus === undefined
      ? [executable, args]
      : ["taskset", ["-c", options.cpus, executable, ...args]];
    this.#child = spawn(command, commandArgs, {
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
    });
    alive.add(this.#child);
    this.#child.stdout!.setEncoding("utf8");
    this.#child.stdout!.on("data", (text: string) => this.#onStdout(text));
    this.#child.stdout!.on("end", () => {
      this.#stdoutEnded = true;
      for (const resolve of this.#waiting.splice(0)) resolve(null);
    });
    this.#child.stderr!.setEncoding("utf8");
    this.#child.stderr!.on("data", (text: string) => (this.#stderr = (this.#stderr + text).slice(-STDERR_KEPT)));
    this.#child.stdin!.on("error", () => {});
    this.#exited = new Promise((resolve) => {
      this.#child.on("error", (error) => {
        this.#stderr += `\nspawn failed: ${error.message}`;
        resolve(-1);
      });
      this.#child.on("close", (code) => resolve(code));
    }).then((code) => {
      alive.delete(this.#child);
      clearTimeout(this.#timer);
      return code as number | null;
    });
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#child.kill("SIGKILL");
    }, options.timeout);
  }

  /** The tail of its stderr. */
  get stderr(): string {
    return this.#stderr;
  }

  /**
   * Its next stdout line, parsed as JSON.
   *
   * @throws ChildFailure when it ends first, prints `{ error }`, or prints something that is not JSON.
   */
  async nextMessage(): Promise<Record<string, unknown>> {
    const line = await this.#nextLine();
    if (line === null) {
      const code = await this.#exited;
      throw this.failure(this.#timedOut ? "was killed: it hung" : `exited with code ${code} before it answered`);
    }
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line);
    } catch {
      throw this.failure(`printed a line that is not JSON: ${line}`);
    }
    if ("error" in message) throw this.failure(`failed: ${message.error}`);
    return message;
  }

  /** Writes one JSON line to its stdin. */
  send(message: unknown): void {
    this.#child.stdin!.write(JSON.stringify(message) + "\n");
  }

  /** Ends its stdin (the server's signal to close). */
  endInput(): void {
    this.#child.stdin!.end();
  }

  /**
   * Waits for it to exit on its own within `ms`, killing it otherwise.
   *
   * @throws ChildFailure when it had to be killed or exited non-zero.
   */
  async finish(ms: number): Promise<void> {
    const timer = setTimeout(() => {
      this.#timedOut = true;
      this.#child.kill("SIGKILL");
    }, ms);
    const code = await this.#exited;
    clearTimeout(timer);
    if (this.#timedOut) throw this.failure("was killed: it did not exit");
    if (code !== 0) throw this.failure(`exited with code ${code}`);
  }

  /** Kills it (if it still runs) and waits until it is gone. */
  async kill(): Promise<void> {
    if (alive.has(this.#child)) this.#child.kill("SIGKILL");
    await this.#exited;
  }

  /** An error naming this child, with its stderr. */
  failure(what: string): ChildFailure {
    return new ChildFailure(`The ${this.#label} ${what}`, this.#stderr);
  }

  #onStdout(text: string): void {
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop()!;
    for (const line of lines) {
      const waiting = this.#waiting.shift();
      if (waiting !== undefined) waiting(line);
      else this.#lines.push(line);
    }
  }

  #nextLine(): Promise<string | null> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#stdoutEnded) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}

/** Kills every child still alive (an interrupted runner). */
export function killAll(): void {
  for (const child of alive) child.kill("SIGKILL");
}
