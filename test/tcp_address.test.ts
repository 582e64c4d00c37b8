/**
 * `tcp://` and `tls://` addresses: every form parses to its host and port
 * and formats back to itself, and every malformed one is refused with
 * `ERR_INVALID_ADDRESS` and a message saying what is wrong. Unix addresses
 * keep parsing as before.
 *
 * @module
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect } from "../mod.ts";
import { formatAddress, isHostName, isIpv4, isIpv6, parseAddress, parseUnixAddress } from "../src/transport/address.ts";

describe("tcp:// and tls:// addresses", () => {
  it("parse hosts of every kind and ports 0 to 65535, and format back to the same text", () => {
    const cases: [string, string, number][] = [
      ["tcp://127.0.0.1:7000", "127.0.0.1", 7000],
      ["tls://0.0.0.0:0", "0.0.0.0", 0],
      ["tcp://255.255.255.255:65535", "255.255.255.255", 65535],
      ["tcp://[::1]:80", "::1", 80],
      ["tls://[::]:443", "::", 443],
      ["tcp://[2001:db8::8a2e:370:7334]:1", "2001:db8::8a2e:370:7334", 1],
      ["tcp://[1:2:3:4:5:6:7:8]:2", "1:2:3:4:5:6:7:8", 2],
      ["tcp://[::ffff:10.0.0.1]:3", "::ffff:10.0.0.1", 3],
      ["tcp://[fe80::1%eth0]:4", "fe80::1%eth0", 4],
      ["tls://localhost:7001", "localhost", 7001],
      ["tls://daemon.example.com:7001", "daemon.example.com", 7001],
      ["tls://Daemon-1.Example.:7001", "Daemon-1.Example.", 7001],
      ["tcp://xn--bcher-kva.example:9", "xn--bcher-kva.example", 9],
      [`tcp://${"a".repeat(63)}.example:9`, `${"a".repeat(63)}.example`, 9],
    ];
    for (const [text, host, port] of cases) {
      const parsed = parseAddress(text);
      assert.deepEqual(parsed, { transport: text.slice(0, 3), host, port }, text);
      assert.equal(formatAddress(parsed), text);
    }
  });

  it("refuses malformed hosts and ports with ERR_INVALID_ADDRESS saying what is wrong", () => {
    const cases: [string, RegExp][] = [
      ["tcp://127.0.0.1", /has no port/],
      ["tcp://127.0.0.1:", /invalid port ""/],
      ["tcp://:7000", /has no host/],
      ["tcp://127.0.0.1:65536", /invalid port "65536" \(0 to 65535\)/],
      ["tcp://127.0.0.1:123456", /invalid port/],
      ["tcp://127.0.0.1:-1", /invalid port "-1"/],
      ["tcp://127.0.0.1:80x", /invalid port "80x"/],
      ["tcp://127.0.0.1:80/path", /invalid port "80\/path"/],
      ["tcp://127.0.0.1: 80", /invalid port " 80"/],
      ["tcp://256.0.0.1:80", /invalid host "256.0.0.1"/],
      ["tcp://1.2.3:80", /invalid host "1.2.3"/],
      ["tcp://01.2.3.4:80", /invalid host "01.2.3.4"/],
      ["tcp://::1:80", /IPv6 address "::1" outside brackets/],
      ["tcp://[::1:80", /no closing \]/],
      ["tcp://[::1]80", /no port after its \]/],
      ["tcp://[::1]", /no port after its \]/],
      ["tcp://[:::]:80", /invalid IPv6 address ":::"/],
      ["tcp://[1:2:3:4:5:6:7:8:9]:80", /invalid IPv6 address/],
      ["tcp://[1:2:3]:80", /invalid IPv6 address/],
      ["tcp://[12345::]:80", /invalid IPv6 address/],
      ["tcp://[localhost]:80", /invalid IPv6 address "localhost"/],
      ["tcp://[]:80", /has no host/],
      ["tcp://under_score.example:80", /invalid host "under_score.example"/],
      ["tcp://-lead.example:80", /invalid host/],
      ["tcp://trail-.example:80", /invalid host/],
      ["tcp://a..b:80", /invalid host "a..b"/],
      [`tcp://${"a".repeat(64)}.example:80`, /invalid host/],
      [`tcp://${"abcdefghi.".repeat(26)}x:80`, /invalid host/],
      ["tcp://user@host:80", /invalid host "user@host"/],
      ["tcp://host name:80", /invalid host/],
      ["tls://:", /has no host/],
      ["tcp:/127.0.0.1:80", /Unknown address/],
      ["TCP://127.0.0.1:80", /Unknown address/],
      ["udp://127.0.0.1:80", /Unknown address/],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => parseAddress(text), { code: "ERR_INVALID_ADDRESS", message }, text);
    }
  });

  it("names the form it expects in the message", () => {
    assert.throws(() => parseAddress("tls://x"), {
      message: 'Address "tls://x" has no port: expected tls://host:port',
    });
  });

  it("keeps Unix addresses as they were, and parseUnixAddress refuses internet ones", () => {
    assert.deepEqual(parseAddress("unix:/run/app.sock"), { transport: "unix", path: "/run/app.sock", abstract: false });
    assert.deepEqual(parseAddress("seqpacket:@x"), { transport: "seqpacket", path: "x", abstract: true });
    assert.equal(formatAddress(parseUnixAddress("unix:@name")), "unix:@name");
    assert.throws(() => parseUnixAddress("tcp://127.0.0.1:1"), {
      code: "ERR_INVALID_ADDRESS",
      message: /Expected a unix: or seqpacket: address, found "tcp:\/\/127.0.0.1:1"/,
    });
  });

  it("classifies hosts", () => {
    assert.deepEqual(["10.0.0.1", "0.0.0.0", "1.2.3.04", "1.2.3.4.5"].map(isIpv4), [true, true, false, false]);
    assert.deepEqual(["::", "::1", "1::", "1:2:3:4:5:6:7::", "::1.2.3.4", "1:::2", "g::1"].map(isIpv6), [
      true,
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
    assert.deepEqual(["localhost", "a.b-c.d", "10.0.0.1", "a.1", "1a.b2", ""].map(isHostName), [
      true,
      true,
      false,
      false,
      true,
      false,
    ]);
  });

  it("refuses a connect to port 0 before opening anything", async () => {
    await assert.rejects(connect("tcp://127.0.0.1:0"), {
      code: "ERR_INVALID_ADDRESS",
      message: /Cannot connect to "tcp:\/\/127.0.0.1:0": expected a port from 1 to 65535, found 0/,
    });
    await assert.rejects(connect("tls://[::1]:0", { tls: { pin: "ab".repeat(32) } }), { code: "ERR_INVALID_ADDRESS" });
  });
});
