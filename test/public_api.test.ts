/**
 * The public surface, pinned: the names each entry point exports, values
 * and types. A name added by accident (an internal class re-exported by an
 * `export *`) fails here; adding one on purpose means adding it to the list
 * below, in the same change that documents it.
 *
 * Types are read from the source with TypeScript's parser (following
 * `export *` into the files it names); values are also checked at run time
 * in the runtime running the test.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { isCompiled, repoRoot } from "./_helpers.ts";

/** What an application uses: `mod.ts`, and the same from every `adapters/<runtime>/mod.ts`. */
const ROOT = {
  values: [
    "CancelledError",
    "ChildExitedError",
    "ConnectionClosedError",
    "DataError",
    "PeerlinkError",
    "ProtocolError",
    "RemoteError",
    "RpcError",
    "SessionError",
    "TimeoutError",
    "TlsError",
    "UsageError",
    "connect",
    "createSecretFile",
    "generateCertificate",
    "listen",
    "method",
    "notification",
    "serveStdio",
    "spawn",
    "withFds",
  ],
  types: [
    "AcceptFilter",
    "AllowPolicy",
    "Call",
    "CallArgs",
    "CallContext",
    "CallOptions",
    "CertificateOptions",
    "ChildConnection",
    "ChildExit",
    "ChildHandle",
    "ClientSessionOptions",
    "ClientTlsOptions",
    "CloseOptions",
    "Codec",
    "ConnectFunction",
    "ConnectionInfo",
    "ConnectOptions",
    "CreateSecretFileFunction",
    "DataErrorCode",
    "DeclaredJsonSchemas",
    "DeclaredListener",
    "DeclaredMethod",
    "DeclaredNotification",
    "DeclaredParams",
    "DeclaredReturn",
    "ErrorCode",
    "FdHandle",
    "FlowOptions",
    "GeneratedCertificate",
    "Handler",
    "HandlerContext",
    "Handshake",
    "InetEndpoint",
    "InputOf",
    "ItemOf",
    "JsonSchema",
    "KeepaliveOptions",
    "ListenFunction",
    "ListenOptions",
    "MessageTransport",
    "MethodDescription",
    "MethodHandler",
    "MethodKind",
    "MethodName",
    "MethodSpec",
    "NotificationContext",
    "NotificationDescription",
    "NotificationListener",
    "Notifications",
    "NotificationSpec",
    "NotifyArgs",
    "ParamsIssue",
    "ParamsOf",
    "PeerCertificate",
    "PeerCredentials",
    "PeerlinkErrorOptions",
    "PipeFramingOptions",
    "ProtocolErrorCode",
    "Received",
    "ReconnectOptions",
    "ResultOf",
    "Router",
    "RpcCaller",
    "RpcConnection",
    "RpcServer",
    "SeqpacketListenOptions",
    "SeqpacketOptions",
    "ServerSessionOptions",
    "ServerStats",
    "ServerTlsOptions",
    "ServeStdioFunction",
    "ServeStdioOptions",
    "Service",
    "ServiceDescription",
    "SessionErrorCode",
    "SessionInfo",
    "SessionOptions",
    "SpawnFunction",
    "SpawnOptions",
    "StdioServer",
    "TlsErrorCode",
    "TlsInfo",
    "UsageErrorCode",
    "WithFds",
    "WithFdsOptions",
  ],
};

/** The fizyr-rpc level: `peer.ts` (JSR `./peer`, npm `peerlink/peer`). */
const PEER = {
  values: [
    "DESCRIBE_SERVICE_ID",
    "ERROR_TEXT_SERVICE_ID",
    "HEADER_SIZE",
    "MessageType",
    "Peer",
    "STATUS_ERROR",
    "STATUS_ERROR_TEXT",
    "STATUS_OK",
    "UPDATE_CANCEL",
    "UPDATE_END_OF_INPUT",
    "UPDATE_ITEM",
    "cborCodec",
    "connectTransport",
    "listenTransport",
    "methodId",
    "transportPair",
  ],
  types: [
    "ClientTlsOptions",
    "Codec",
    "ConnectTransportFunction",
    "ConnectionInfo",
    "ErrorBody",
    "FdHandle",
    "InetEndpoint",
    "ListenTransportFunction",
    "ListenTransportOptions",
    "Listener",
    "Message",
    "MessageHeader",
    "MessageTransport",
    "OutgoingMessage",
    "PeerCertificate",
    "PeerCredentials",
    "PeerOptions",
    "ReceivedRequest",
    "SendOptions",
    "SentRequest",
    "SeqpacketListenOptions",
    "SeqpacketOptions",
    "ServerTlsOptions",
    "TlsInfo",
    "TransportOptions",
    "TransportPairFunction",
  ],
};

const ENTRY_POINTS = [
  { file: "mod.ts", expected: ROOT },
  { file: "adapters/deno/mod.ts", expected: ROOT },
  { file: "adapters/bun/mod.ts", expected: ROOT },
  { file: "adapters/node/mod.ts", expected: ROOT },
  { file: "peer.ts", expected: PEER },
];

/** Every name a module exports, from its source: declarations, `export { … }` and `export *`. */
function exportedNames(path: string, seen = new Set<string>()): Set<string> {
  const names = new Set<string>();
  if (seen.has(path)) return names;
  seen.add(path);
  const source = ts.createSourceFile(path, readFileSync(join(repoRoot, path), "utf8"), ts.ScriptTarget.Latest);
  const exported = (node: ts.Node): boolean =>
    ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      const from = statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)
        ? posix.normalize(posix.join(posix.dirname(path), statement.moduleSpecifier.text))
        : undefined;
      if (statement.exportClause === undefined && from) {
        for (const name of exportedNames(from, seen)) names.add(name);
      } else if (statement.exportClause && ts.isNamedExports(statement.exportClause)) {
        for (const element of statement.exportClause.elements) names.add(element.name.text);
      }
    } else if (ts.isVariableStatement(statement) && exported(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name)) names.add(declaration.name.text);
      }
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) && statement.name && exported(statement)
    ) {
      names.add(statement.name.text);
    }
  }
  return names;
}

const sorted = (names: Iterable<string>): string[] => [...names].sort();

describe("public API", () => {
  for (const { file, expected } of ENTRY_POINTS) {
    it(`${file} exports exactly the documented names`, () => {
      assert.deepEqual(sorted(exportedNames(file)), sorted([...expected.values, ...expected.types]));
    });
  }

  for (const { file, expected } of ENTRY_POINTS) {
    it(`${file} has exactly the documented values at run time`, async () => {
      const url = new URL(`../${isCompiled ? file.replace(/\.ts$/, ".js") : file}`, import.meta.url);
      const module = await import(url.href);
      assert.deepEqual(sorted(Object.keys(module)), sorted(expected.values));
    });
  }
});
