/**
 * The answer to parameters a declared schema refused: `ERR_INVALID_PARAMS`
 * with each issue's path (an array of keys) and message, in a form every
 * codec can carry.
 *
 * @module
 */

import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { ErrorBody } from "./protocol.ts";

/** One problem a schema found, as it travels in `data.issues` of `ERR_INVALID_PARAMS`. */
export interface ParamsIssue {
  /** Where: the keys from the parameters down to the value (`["items", 2, "name"]`); empty for the parameters themselves. */
  path: (string | number)[];
  /** What is wrong, in the schema library's words. */
  message: string;
}

/**
 * The error body of parameters a schema refused.
 *
 * @param method The method name, for the message.
 * @param issues What the schema reported.
 * @returns `{ code: "ERR_INVALID_PARAMS", message, data: { issues } }`.
 *
 * @example
 * ```ts
 * import { invalidParamsBody } from "./validation.ts";
 * const body = invalidParamsBody("resize", [{ message: "Too small", path: [{ key: "width" }] }]);
 * console.assert(body.message === 'Invalid params for "resize": Too small (at width)');
 * ```
 */
export function invalidParamsBody(method: string, issues: readonly StandardSchemaV1.Issue[]): ErrorBody {
  const listed = issues.map(issueOf);
  const first = listed[0];
  const where = first === undefined || first.path.length === 0 ? "" : ` (at ${pathText(first.path)})`;
  const more = listed.length > 1 ? ` and ${listed.length - 1} more issue${listed.length > 2 ? "s" : ""}` : "";
  const message = first === undefined ? "the schema refused them" : `${first.message}${where}${more}`;
  return {
    code: "ERR_INVALID_PARAMS",
    message: `Invalid params for "${method}": ${message}`,
    data: { issues: listed },
  };
}

function issueOf(issue: StandardSchemaV1.Issue): ParamsIssue {
  const path = (issue.path ?? []).map((segment) => {
    const key = typeof segment === "object" && segment !== null ? segment.key : segment;
    return typeof key === "number" ? key : typeof key === "symbol" ? key.description ?? String(key) : String(key);
  });
  return { path, message: String(issue.message) };
}

function pathText(path: readonly (string | number)[]): string {
  return path.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? key : `.${key}`)).join("");
}
