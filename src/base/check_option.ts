/**
 * Checking options where they enter: small rules (an integer in a range, a
 * function, an object of functions) and {@link checkOptions}, which applies
 * a table of rules to an options object, refuses names the table does not
 * know, and throws one `UsageError("ERR_INVALID_ARGUMENT")` that names the
 * option, what it accepts and what it found.
 *
 * @module
 */

import { UsageError } from "./errors.ts";

/** What a rule found wrong: where inside the option, what it accepts. */
export interface OptionProblem {
  /** The option, or the part of it, that is wrong (`maxFds`, `codec.decode`, `handlers.add`). */
  path: string;
  /** What that place accepts, as a phrase ("an integer from 0 to 253"). */
  expected: string;
  /** The value found there. */
  found: unknown;
}

/**
 * Checks one option's value (never `undefined`: an option set to
 * `undefined` is treated as absent).
 *
 * @param value The value.
 * @param path The option's name, for the problem's `path`.
 * @returns `undefined` if the value is accepted, else what is wrong.
 */
export type OptionRule = (value: unknown, path: string) => OptionProblem | undefined;

/** The rules of one entry point's options, by option name; its keys are the names it knows. */
export type OptionRules = Readonly<Record<string, OptionRule>>;

/**
 * A rule for an integer from `min` to `max`.
 *
 * @param min Smallest accepted value.
 * @param max Largest accepted value.
 * @returns The rule.
 *
 * @example
 * ```ts
 * import { integerFrom } from "./check_option.ts";
 * console.assert(integerFrom(0, 253)(254, "maxFds")?.expected === "an integer from 0 to 253");
 * ```
 */
export function integerFrom(min: number, max: number): OptionRule {
  return (value, path) =>
    typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
      ? undefined
      : { path, expected: `an integer from ${min} to ${max}`, found: value };
}

/**
 * Accepts functions.
 *
 * @example
 * ```ts
 * import { aFunction } from "./check_option.ts";
 * console.assert(aFunction(() => {}, "onError") === undefined);
 * ```
 */
export const aFunction: OptionRule = (value, path) =>
  typeof value === "function" ? undefined : { path, expected: "a function", found: value };

/**
 * A rule for an object whose own properties each pass `rule`, such as
 * `handlers` (name → function); a problem names the property.
 *
 * @param rule The rule every property value must pass.
 * @returns The rule.
 *
 * @example
 * ```ts
 * import { aFunction, recordOf } from "./check_option.ts";
 * console.assert(recordOf(aFunction)({ add: 1 }, "handlers")?.path === "handlers.add");
 * ```
 */
export function recordOf(rule: OptionRule): OptionRule {
  return (value, path) => {
    if (!isObject(value)) return { path, expected: "an object", found: value };
    for (const [key, item] of Object.entries(value)) {
      const problem = rule(item, memberPath(path, key));
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}

/**
 * A rule for an object with the given members, each required, such as a
 * codec's `encode` and `decode`.
 *
 * @param members The rule of each member, by name.
 * @returns The rule.
 *
 * @example
 * ```ts
 * import { aFunction, objectWith } from "./check_option.ts";
 * const codec = objectWith({ encode: aFunction, decode: aFunction });
 * console.assert(codec({ encode() {} }, "codec")?.path === "codec.decode");
 * ```
 */
export function objectWith(members: OptionRules): OptionRule {
  return (value, path) => {
    if (!isObject(value)) {
      return { path, expected: `an object with ${Object.keys(members).join(" and ")}`, found: value };
    }
    for (const [key, rule] of Object.entries(members)) {
      const problem = rule((value as Record<string, unknown>)[key], memberPath(path, key));
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}

/** Where {@link checkOptions} is checking, for its messages. */
export interface CheckContext {
  /** The entry point, as users write it (`listen()`, `new Peer()`). */
  where: string;
  /** Options that other entry points take, by name (`"listen(), listenTransport()"`), so that a misplaced one is named as such. */
  elsewhere?: Readonly<Record<string, string>>;
}

/**
 * Checks an options object against the rules of one entry point, before
 * the entry point opens anything, and returns a snapshot of it: a plain
 * object holding each known option's value, read exactly once (inherited
 * properties and getters included). Entry points use the snapshot only, so
 * a value cannot change between being checked and being used.
 *
 * @param options The options as given; `undefined` means none.
 * @param rules The rules; an own option whose name is not a key is refused.
 * @param context The entry point's name, and where misplaced options belong.
 * @returns The checked options, without `undefined` values.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` when `options` is not an
 *   object, names an option `rules` does not know (suggesting the closest
 *   known name), holds a value its rule refuses, or a getter throws.
 *
 * @example
 * ```ts
 * import { checkOptions, integerFrom } from "./check_option.ts";
 * let message = "";
 * try {
 *   checkOptions({ maxFd: 3 }, { maxFds: integerFrom(0, 253) }, { where: "connect()" });
 * } catch (error) {
 *   message = (error as Error).message;
 * }
 * console.assert(message.includes('did you mean "maxFds"'));
 * ```
 */
export function checkOptions<T extends object>(options: T | undefined, rules: OptionRules, context: CheckContext): T {
  const { where } = context;
  if (options === undefined) return {} as T;
  if (!isObject(options)) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Expected the options of ${where} to be an object, found ${describe(options)}`,
    );
  }
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(rules, name)) throw unknownOption(name, Object.keys(rules), context);
  }
  const snapshot: Record<string, unknown> = {};
  for (const [name, rule] of Object.entries(rules)) {
    let value: unknown;
    try {
      value = (options as Record<string, unknown>)[name];
    } catch (cause) {
      throw new UsageError("ERR_INVALID_ARGUMENT", `Reading ${name} in the options of ${where} threw`, { cause });
    }
    if (value === undefined) continue;
    const problem = rule(value, name);
    if (problem !== undefined) {
      throw new UsageError(
        "ERR_INVALID_ARGUMENT",
        `Expected ${problem.path} in the options of ${where} to be ${problem.expected}, found ${
          describe(problem.found)
        }`,
      );
    }
    snapshot[name] = value;
  }
  return snapshot as T;
}

function unknownOption(name: string, known: string[], context: CheckContext): UsageError {
  const { where, elsewhere = {} } = context;
  const owner = Object.hasOwn(elsewhere, name) ? elsewhere[name] : undefined;
  if (owner !== undefined) {
    return new UsageError("ERR_INVALID_ARGUMENT", `Option "${name}" is not an option of ${where}; ${owner} take it`);
  }
  const closest = closestName(name, known);
  const hint = closest === undefined ? `; the known options are ${known.join(", ")}` : `; did you mean "${closest}"?`;
  return new UsageError("ERR_INVALID_ARGUMENT", `Unknown option "${name}" in the options of ${where}${hint}`);
}

/** The known name within a few edits of `name` (a typo or a different case), if there is one. */
function closestName(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, previous[j]! + 1, current[j - 1]! + 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function memberPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** A value as an error message shows it. */
function describe(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "bigint":
      return `${value}n`;
    case "function":
      return "a function";
    case "symbol":
      return value.toString();
    case "object":
      if (value === null) return "null";
      return Array.isArray(value) ? "an array" : "an object";
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    default:
      return String(value);
  }
}
