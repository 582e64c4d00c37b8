/**
 * The child processes' side of `./protocol.ts`: JSON lines out on stdout,
 * lines in from stdin, and a clean exit once stdout is flushed.
 *
 * @module
 */

import process from "node:process";

/** Prints one JSON line on stdout. */
export function printLine(message: unknown): void {
  process.stdout.write(JSON.stringify(message) + "\n");
}

/** The lines of stdin, one at a time; null once it ends. */
export class StdinLines {
  readonly #lines: string[] = [];
  readonly #waiting: ((line: string | null) => void)[] = [];
  #partial = "";
  #ended = false;

  /** Starts reading stdin. */
  constructor() {
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (text: string) => {
      const lines = (this.#partial + text).split("\n");
      this.#partial = lines.pop()!;
      for (const line of lines) this.#deliver(line);
    });
    process.stdin.on("end", () => {
      this.#ended = true;
      for (const resolve of this.#waiting.splice(0)) resolve(null);
    });
  }

  /** The next line, or null when stdin ended. */
  next(): Promise<string | null> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Stops reading, so that stdin no longer keeps the process alive. */
  stop(): void {
    process.stdin.pause();
    process.stdin.destroy();
  }

  #deliver(line: string): void {
    const waiting = this.#waiting.shift();
    if (waiting !== undefined) waiting(line);
    else this.#lines.push(line);
  }
}

/**
 * Runs a child's main function: on failure prints `{ error }` and exits 1;
 * either way exits once stdout is flushed (a benchmark child must not stay).
 */
export async function runChild(main: () => Promise<void>): Promise<void> {
  let code = 0;
  try {
    await main();
  } catch (error) {
    code = 1;
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    printLine({ error: message });
  }
  process.stdout.write("", () => process.exit(code));
}
