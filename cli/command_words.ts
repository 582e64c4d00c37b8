/**
 * Splits the command of an `exec:COMMAND` address into words, the way a
 * shell splits simple words, without running a shell: spaces and tabs
 * separate words; `'...'` keeps everything inside as it is; `"..."` keeps
 * everything but `\"` and `\\`, which stand for `"` and `\`; outside quotes
 * a backslash keeps the next character as it is. Nothing is expanded: no
 * variables, `~`, globs, pipes or redirections.
 *
 * @module
 */

import { UsageError } from "../mod.ts";

/**
 * Splits a command line into words.
 *
 * @param text The command line, such as `deno run -A "my plugin.ts"`.
 * @returns The words, at least one.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` for an unterminated quote, a trailing backslash, or no word at all.
 *
 * @example
 * ```ts
 * import { splitCommandLine } from "./command_words.ts";
 * const words = splitCommandLine(`deno run -A 'my plugin.ts' "a \\"b\\""`);
 * console.assert(words.join("|") === 'deno|run|-A|my plugin.ts|a "b"');
 * ```
 */
export function splitCommandLine(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const fail = (problem: string): never => {
    throw new UsageError("ERR_INVALID_ARGUMENT", `Cannot split the command "${text}": ${problem}`);
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === " " || char === "\t") {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (char === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) fail("a single quote is not closed");
      word = (word ?? "") + text.slice(i + 1, end);
      i = end;
    } else if (char === '"') {
      word ??= "";
      for (i++;; i++) {
        if (i >= text.length) fail("a double quote is not closed");
        const inner = text[i]!;
        if (inner === '"') break;
        if (inner === "\\" && (text[i + 1] === '"' || text[i + 1] === "\\")) word += text[++i];
        else word += inner;
      }
    } else if (char === "\\") {
      if (i + 1 >= text.length) fail("it ends with a backslash");
      word = (word ?? "") + text[++i];
    } else {
      word = (word ?? "") + char;
    }
  }
  if (word !== undefined) words.push(word);
  if (words.length === 0) fail("it names no program");
  return words;
}
