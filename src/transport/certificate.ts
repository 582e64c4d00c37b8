/**
 * Certificates for `tls://` without an outside tool: {@link generateCertificate}
 * makes an ECDSA P-256 / SHA-256 key and a certificate for it (self-signed,
 * or signed by a CA made the same way), through `@peculiar/x509` on the
 * runtime's WebCrypto. Both packages are imported on the first call only
 * (`reflect-metadata` first: x509's dependency injection needs the Reflect
 * polyfill at import), so importing peerlink loads neither.
 *
 * A server certificate carries the host names and IP addresses as
 * subjectAltNames, its first host name (or IP) as CN, the serverAuth and
 * clientAuth purposes (the same certificate can identify a client to a
 * server with `clientCa`), and no BasicConstraints: Deno's TLS refuses a
 * certificate marked CA:true as a server's own. A CA certificate (`ca:
 * true`) is marked CA:true with keyCertSign and signs others; it is for
 * `ca`/`clientCa`, not for serving.
 *
 * @module
 */

import { checkOptions, type OptionRule } from "../base/check_option.ts";
import { UsageError } from "../base/errors.ts";
import { isHostName, isIpv4, isIpv6 } from "./address.ts";
import { pemBlocks, sha256Fingerprint } from "./tls_pin.ts";

/** What {@link generateCertificate} makes. */
export interface CertificateOptions {
  /** DNS names the certificate is valid for (subjectAltName). Default `["localhost"]` when `ips` is absent too. */
  hosts?: string[];
  /** IP addresses the certificate is valid for (subjectAltName). Default `["127.0.0.1", "::1"]` when `hosts` is absent too. */
  ips?: string[];
  /** The subject's CN. Default: the first host name, else the first IP address, else `peerlink`. */
  commonName?: string;
  /** Days of validity from now: an integer from 1 to 36 500. Default 365. Ignored when `notAfter` is given. */
  days?: number;
  /** Start of validity. Default: now. */
  notBefore?: Date;
  /** End of validity; must be after `notBefore`. Default: `days` after `notBefore`. */
  notAfter?: Date;
  /** Make a CA certificate (CA:true, keyCertSign) that signs others. Default false. */
  ca?: boolean;
  /** Sign with this CA (a certificate made with `ca: true`, PEM texts) instead of self-signing. */
  issuer?: { cert: string; key: string };
}

/** A generated certificate and its key. */
export interface GeneratedCertificate {
  /** The certificate, PEM. */
  cert: string;
  /** Its private key, PEM (PKCS#8, unencrypted): keep it secret. */
  key: string;
  /** SHA-256 of the certificate's DER bytes, 64 lowercase hex digits: what a client's `tls.pin` takes. */
  fingerprint256: string;
}

const DAY_MS = 86_400_000;
const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;

const listOf = (accepts: (item: string) => boolean, what: string): OptionRule => (value, path) =>
  Array.isArray(value) && value.every((item) => typeof item === "string" && accepts(item))
    ? undefined
    : { path, expected: `an array of ${what}`, found: value };

const aDate: OptionRule = (value, path) =>
  value instanceof Date && !Number.isNaN(value.getTime())
    ? undefined
    : { path, expected: "a valid Date", found: value };

const RULES = {
  hosts: listOf(isHostName, "host names"),
  ips: listOf((ip) => isIpv4(ip) || isIpv6(ip), "IP addresses"),
  commonName: (value: unknown, path: string) =>
    typeof value === "string" && value.length > 0 && value.length <= 64
      ? undefined
      : { path, expected: "a string of 1 to 64 characters", found: value },
  days: (value: unknown, path: string) =>
    Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 36_500
      ? undefined
      : { path, expected: "an integer from 1 to 36500", found: value },
  notBefore: aDate,
  notAfter: aDate,
  ca: (value: unknown, path: string) =>
    typeof value === "boolean" ? undefined : { path, expected: "true or false", found: value },
  issuer: (value: unknown, path: string) =>
    typeof value === "object" && value !== null &&
      typeof (value as { cert?: unknown }).cert === "string" && typeof (value as { key?: unknown }).key === "string"
      ? undefined
      : { path, expected: "an object with cert and key PEM texts", found: value },
} satisfies Record<keyof CertificateOptions, OptionRule>;

/** The two packages, loaded on first use. */
async function loadX509(): Promise<typeof import("@peculiar/x509")> {
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  x509.cryptoProvider.set(globalThis.crypto);
  return x509;
}

/** A positive random serial number, 16 bytes in hex. */
function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f | 0x01;
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The issuing CA's certificate and signing key, from its PEM texts. */
async function readIssuer(x509: typeof import("@peculiar/x509"), issuer: { cert: string; key: string }) {
  const parsed = await (async () => {
    const keyBlock = pemBlocks(issuer.key).find((block) => block.label === "PRIVATE KEY");
    if (keyBlock === undefined) throw new Error("no -----BEGIN PRIVATE KEY----- block");
    return {
      certificate: new x509.X509Certificate(issuer.cert),
      key: await crypto.subtle.importKey("pkcs8", keyBlock.der.slice(), KEY_ALGORITHM, false, ["sign"]),
    };
  })().catch((cause: unknown) => {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Expected issuer of generateCertificate() to be a P-256 CA certificate and its PKCS#8 key, found one that cannot be read (${
        (cause as Error).message
      })`,
      { cause },
    );
  });
  if (parsed.certificate.getExtension(x509.BasicConstraintsExtension)?.ca !== true) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Expected issuer of generateCertificate() to be a CA certificate (made with ca: true), found ${parsed.certificate.subject} without CA:true`,
    );
  }
  return parsed;
}

/**
 * Makes a key pair and a certificate for it: self-signed by default (pin
 * its `fingerprint256`, or give the certificate as the client's `ca`), or
 * signed by `issuer`.
 *
 * @param options What to make; see {@link CertificateOptions}.
 * @returns The certificate and key as PEM, and the certificate's fingerprint.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` for an option outside its range, `notAfter` not after
 *   `notBefore`, or an `issuer` that is not a CA certificate with its key.
 *
 * @example
 * ```ts ignore
 * import { connect, generateCertificate, listen } from "@peerlink/peerlink";
 *
 * const { cert, key, fingerprint256 } = await generateCertificate({ hosts: ["localhost"] });
 * const server = await listen("tls://127.0.0.1:0", { tls: { cert, key }, handlers: { ping: () => "pong" } });
 * const client = await connect(server.address, { tls: { pin: fingerprint256, serverName: "localhost" } });
 * console.log(await client.call("ping")); // "pong"
 * ```
 */
export async function generateCertificate(options?: CertificateOptions): Promise<GeneratedCertificate> {
  const checked = checkOptions(options, RULES, { where: "generateCertificate()" });
  const {
    hosts = checked.ips === undefined ? ["localhost"] : [],
    ips = checked.hosts === undefined ? ["127.0.0.1", "::1"] : [],
  } = checked;
  const notBefore = checked.notBefore ?? new Date();
  const notAfter = checked.notAfter ?? new Date(notBefore.getTime() + (checked.days ?? 365) * DAY_MS);
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Expected notAfter in the options of generateCertificate() to be after notBefore (${notBefore.toISOString()}), found ${notAfter.toISOString()}`,
    );
  }
  const x509 = await loadX509();
  const issuer = checked.issuer === undefined ? undefined : await readIssuer(x509, checked.issuer);
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
  const subject = [{ CN: [checked.commonName ?? hosts[0] ?? ips[0] ?? "peerlink"] }];
  const extensions: import("@peculiar/x509").Extension[] = [
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (checked.ca === true) {
    extensions.push(
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    );
  } else {
    extensions.push(
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    );
  }
  const names = [
    ...hosts.map((value) => ({ type: "dns" as const, value })),
    ...ips.map((value) => ({ type: "ip" as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  if (issuer !== undefined) {
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate.publicKey));
  }
  const common = { serialNumber: randomSerial(), notBefore, notAfter, signingAlgorithm: SIGNING_ALGORITHM, extensions };
  const certificate = issuer === undefined
    ? await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: subject, keys })
    : await x509.X509CertificateGenerator.create({
      ...common,
      subject,
      issuer: issuer.certificate.subject,
      publicKey: keys.publicKey,
      signingKey: issuer.key,
    });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    cert: `${certificate.toString("pem")}\n`,
    key: `${x509.PemConverter.encode(pkcs8, "PRIVATE KEY")}\n`,
    fingerprint256: await sha256Fingerprint(new Uint8Array(certificate.rawData)),
  };
}
