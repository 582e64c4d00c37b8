/**
 * `peerlink describe` for a person: the service description as tables, with
 * each JSON Schema summed up in a TypeScript-like line (`{ x: number, y?:
 * string }`, `number[]`, `"a" | "b"`).
 *
 * @module
 */

import type { JsonSchema, ServiceDescription } from "../mod.ts";

/** The longest a table cell gets before it is cut with an ellipsis. */
const MAX_CELL = 48;

/**
 * Renders a description as text for a terminal.
 *
 * @param address The address described, for the heading.
 * @param description What the server answered.
 * @returns The lines, each ending in a newline.
 *
 * @example
 * ```ts
 * import { describeAsText } from "./describe_output.ts";
 * const text = describeAsText("unix:/tmp/a.sock", {
 *   version: 1,
 *   capabilities: [],
 *   methods: [{ name: "add", serviceId: 993596020, kind: "unary", params: { type: "array", items: { type: "number" } } }],
 *   notifications: [],
 * });
 * console.assert(/^add +unary +993596020 +number\[\] +- +-$/m.test(text));
 * ```
 */
export function describeAsText(address: string, description: ServiceDescription): string {
  const capabilities = description.capabilities.length > 0 ? description.capabilities.join(", ") : "none";
  const lines = [`${address}: peerlink protocol ${description.version}, capabilities: ${capabilities}`, ""];
  const methods = description.methods.map((entry) => [
    entry.name,
    entry.kind,
    String(entry.serviceId),
    schemaSummary(entry.params),
    schemaSummary(entry.items),
    schemaSummary(entry.result),
    entry.description ?? "",
  ]);
  lines.push(...table(["METHOD", "KIND", "SERVICE ID", "PARAMS", "ITEMS", "RESULT", "DESCRIPTION"], methods));
  const notifications = description.notifications.map((entry) => [
    entry.name,
    String(entry.serviceId),
    schemaSummary(entry.params),
    entry.description ?? "",
  ]);
  lines.push("", ...table(["NOTIFICATION", "SERVICE ID", "PARAMS", "DESCRIPTION"], notifications));
  return lines.map((line) => `${line}\n`).join("");
}

/** Columns padded to their widest cell, each but the last cut to a width; a table without rows says so. */
function table(heading: string[], rows: string[][]): string[] {
  if (rows.length === 0) return [`${heading[0]}: none`];
  const cells = [heading, ...rows].map((row) =>
    row.map((cell, column) => (column < row.length - 1 ? cut(cell) : cell))
  );
  const widths = heading.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd());
}

function cut(text: string): string {
  return text.length <= MAX_CELL ? text : `${text.slice(0, MAX_CELL - 1)}…`;
}

/**
 * The description with its keys in reading order (name, service id, kind,
 * description, schemas), for JSON output: the codec sorts them by length.
 *
 * @param description What the server answered.
 * @returns The same data, keys reordered.
 */
export function inReadingOrder(description: ServiceDescription): ServiceDescription {
  const ordered = <T extends object>(entry: T, keys: readonly string[]): T => {
    const known = Object.fromEntries(keys.filter((key) => key in entry).map((key) => [key, entry[key as keyof T]]));
    return { ...known, ...entry } as T;
  };
  const entryKeys = ["name", "serviceId", "kind", "description", "params", "items", "result"];
  return ordered({
    ...description,
    methods: description.methods.map((entry) => ordered(entry, entryKeys)),
    notifications: description.notifications.map((entry) => ordered(entry, entryKeys)),
  }, ["version", "capabilities", "methods", "notifications"]);
}

/**
 * Sums up a JSON Schema in one line: `-` for none, `any` for what it cannot read.
 *
 * @param schema A JSON Schema, or `undefined`.
 * @returns The summary.
 */
export function schemaSummary(schema: JsonSchema | undefined): string {
  return schema === undefined ? "-" : summary(schema, 0);
}

function summary(schema: unknown, depth: number): string {
  if (schema === true || schema === undefined) return "any";
  if (schema === false) return "never";
  if (schema === null || typeof schema !== "object" || depth > 4) return "any";
  const s = schema as Record<string, unknown>;
  const nested = (item: unknown): string => summary(item, depth + 1);
  if ("const" in s) return JSON.stringify(s.const) ?? "any";
  if (Array.isArray(s.enum)) return s.enum.map((value) => JSON.stringify(value)).join(" | ");
  for (const key of ["anyOf", "oneOf"]) {
    if (Array.isArray(s[key])) return (s[key] as unknown[]).map(nested).join(" | ");
  }
  if (Array.isArray(s.allOf)) return (s.allOf as unknown[]).map(nested).join(" & ");
  if (Array.isArray(s.type)) return s.type.map((type) => summary({ ...s, type }, depth)).join(" | ");
  switch (s.type) {
    case "array": {
      // A tuple: `prefixItems` (2020-12) or an array of `items` (draft 07).
      const tuple = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : undefined;
      if (tuple !== undefined) return `[${tuple.map(nested).join(", ")}]`;
      const item = nested(s.items);
      return item.includes(" ") ? `(${item})[]` : `${item}[]`;
    }
    case "object": {
      const properties = s.properties;
      if (properties === null || typeof properties !== "object") return "object";
      const required = new Set(Array.isArray(s.required) ? s.required : []);
      const fields = Object.entries(properties as Record<string, unknown>).map(([name, value]) =>
        `${name}${required.has(name) ? "" : "?"}: ${nested(value)}`
      );
      return fields.length === 0 ? "{}" : `{ ${fields.join(", ")} }`;
    }
    case "string":
    case "number":
    case "integer":
    case "boolean":
    case "null":
      return s.type;
    default:
      return "any";
  }
}
