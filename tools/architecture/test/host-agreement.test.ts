/**
 * Every layer that reads a host agrees with @splitrelay/authority on what a host is and which
 * canonical one: a policy only holds if the parser before it and the checks after it read the
 * same text the same way. Over generated strings biased toward the edges (hyphens at label
 * ends, underscores, numeric and 0x last labels, IPv6 spellings, zone ids, trailing dots,
 * upper case, 63/64-character labels, 253/254-character names), each layer must accept
 * exactly what authority accepts (hosts, or for ids the relay-id labels), no more and no less.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  formatAuthority,
  formatIPv4,
  formatIPv6,
  isRelayId,
  parseHost,
  type Host,
} from '@splitrelay/authority';
import { dnsName, listenAddress, relayId, splitHostPort } from '@splitrelay/config';
import { formatUdpPath, parseUdpPath, UDP_PATH_PREFIX } from '@splitrelay/connect-udp';
import {
  directorySubject,
  issuerKeysMessageSchema,
  parseSubject,
  relayIdSchema,
} from '@splitrelay/control-plane';
import { entryFields, parseEndpoint } from '@splitrelay/directory';
import { RelayError } from '@splitrelay/errors';
import {
  WEBSOCKET_PATH_PREFIX,
  egressIdFromAuthority,
  egressIdFromWebSocketPath,
} from '@splitrelay/outer-hop';
import { Atyp, decodeAddress } from '@splitrelay/socks5';
import { compilePolicy, decideLiteral } from '@splitrelay/target-policy';

// ---- generated hosts, biased toward the edges ------------------------------------------

const labelChars = fc.constantFrom(...'az09-_AZx');
const edgeLabel = fc.oneof(
  fc.string({ unit: labelChars, minLength: 0, maxLength: 6 }),
  fc.constantFrom('-', '-a', 'a-', '-a-', 'a--b', '_', '_a', 'a_', 'xn--bcher-kva', 'localhost'),
  // Numeric and 0x forms: inet_aton reads them as numbers, so a last label like this is no name.
  fc.constantFrom('0', '1', '01', '255', '256', '4294967295', '0x', '0x7f', '0X7F', '0xg', '0x7g'),
  // Around the 63-character limit.
  fc.integer({ min: 61, max: 65 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 61, max: 65 }).map((n) => `a${'-'.repeat(n - 2)}b`),
);
const dnsish = fc
  .tuple(
    fc.array(edgeLabel, { minLength: 1, maxLength: 5 }),
    fc.boolean(),
    fc.constantFrom('keep', 'upper', 'mixed'),
  )
  .map(([labels, dot, casing]) => {
    const name = labels.join('.') + (dot ? '.' : '');
    if (casing === 'upper') return name.toUpperCase();
    if (casing === 'mixed') return name.replace(/[a-z]/, (c) => c.toUpperCase());
    return name;
  });

/** Names of 250-256 characters from long labels: the 253-character limit, with and without a dot. */
const longName = fc
  .tuple(fc.integer({ min: 250, max: 256 }), fc.boolean(), fc.constantFrom('a', 'b-c', '0'))
  .map(([length, dot, last]) => {
    let name = '';
    while (name.length < length - last.length - 1) {
      name += `${'x'.repeat(Math.min(63, length - last.length - 1 - name.length - 1) || 1)}.`;
    }
    name = (name + last).slice(-length);
    if (name.startsWith('.')) name = `y${name.slice(1)}`;
    return name + (dot ? '.' : '');
  });

const octet = fc.oneof(
  { weight: 6, arbitrary: fc.nat(255).map(String) },
  fc.constantFrom('256', '01', '00', '0x7f', '1e2', '', '-1', '999'),
);
const ipv4ish = fc
  .tuple(fc.array(octet, { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([parts, dot]) => parts.join('.') + (dot ? '.' : ''));

const ipv6ish = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map(formatIPv6),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIPv6(b).toUpperCase()),
  // Every group written out, with leading zeros: a valid address in a non-canonical spelling.
  fc
    .uint8Array({ minLength: 16, maxLength: 16 })
    .map((b) =>
      Array.from({ length: 8 }, (_, i) =>
        (((b[2 * i] as number) << 8) | (b[2 * i + 1] as number)).toString(16).padStart(4, '0'),
      ).join(':'),
    ),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => `::ffff:${formatIPv4(b)}`),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => `64:ff9b::${formatIPv4(b)}`),
  fc.constantFrom(
    '::',
    '::1',
    '::1%eth0',
    'fe80::1%25lo',
    '[::1]',
    '[::1',
    '::1]',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    ':1::',
    '::ffff:1.2.3',
    '::ffff:01.2.3.4',
    '12345::',
    'g::1',
  ),
);

const noise = fc.string({
  unit: fc.constantFrom(...'0123456789abcdefxABX.-_:[]%@ /?#\\\u0000\u00e9'),
  maxLength: 24,
});

const hostish = fc.oneof(
  { weight: 4, arbitrary: dnsish },
  { weight: 1, arbitrary: longName },
  { weight: 2, arbitrary: ipv4ish },
  { weight: 2, arbitrary: ipv6ish },
  { weight: 2, arbitrary: noise },
);

/** authority's verdict: the canonical host, or undefined when it is no host. */
function authorityHost(text: string): Host | undefined {
  try {
    return parseHost(text);
  } catch (err) {
    assert.ok(err instanceof RelayError, String(err));
    return undefined;
  }
}

const RUNS = { numRuns: 4000 };

// ---- the layers ---------------------------------------------------------------------------

test('the generator reaches both verdicts for every kind (the property below is not vacuous)', () => {
  const seen = new Set<string>();
  fc.assert(
    fc.property(hostish, (h) => {
      const a = authorityHost(h);
      seen.add(a === undefined ? 'refused' : a.kind);
      if (a?.kind === 'dns' && a.host !== h) seen.add('dns, other spelling');
      if (a?.kind === 'ipv6' && a.host !== h) seen.add('ipv6, other spelling');
      if (isRelayId(h)) seen.add('relay id');
    }),
    RUNS,
  );
  for (const kind of [
    'refused',
    'dns',
    'ipv4',
    'ipv6',
    'dns, other spelling',
    'ipv6, other spelling',
    'relay id',
  ]) {
    assert.ok(seen.has(kind), kind);
  }
});

const anywhere = compilePolicy({ allowCidrs: ['0.0.0.0/0', '::/0'] });

test('target policy: a host, and its canonical form, are authority’s', () => {
  fc.assert(
    fc.property(hostish, (h) => {
      // Brackets are this layer's addition: `[x]` is the host x when x is IPv6, else nothing.
      const bracketed = h.startsWith('[') || h.endsWith(']');
      const inner = bracketed && h.length >= 2 ? authorityHost(h.slice(1, -1)) : undefined;
      const a = bracketed
        ? h.startsWith('[') && h.endsWith(']') && inner?.kind === 'ipv6'
          ? inner
          : undefined
        : authorityHost(h);
      const verdict = (host: string) => {
        try {
          return decideLiteral(anywhere, { host, port: 443, kind: 'tcp' });
        } catch (err) {
          assert.ok(err instanceof RelayError, String(err));
          return err;
        }
      };
      const d = verdict(h);
      if (a === undefined) {
        // Not a host; a zone id is the one such text refused as a prohibited target instead.
        assert.ok(d instanceof RelayError, `target policy accepted ${JSON.stringify(h)}`);
        if (d.code !== 'malformed-request') {
          assert.equal(d.code, 'target-prohibited');
          assert.match(d.details, /zone id/);
        }
        return;
      }
      if (d instanceof RelayError) {
        // Accepted as a host, refused by the policy: only localhost names, whatever is allowed.
        assert.equal(d.code, 'target-prohibited', `${JSON.stringify(h)}: ${d.message}`);
        assert.equal(a.kind, 'dns');
        assert.match(d.details, /loopback name/);
        return;
      }
      if (d.action === 'resolve') {
        assert.equal(a.kind, 'dns');
        assert.equal(d.name, a.host);
      } else {
        assert.notEqual(a.kind, 'dns');
        assert.deepEqual(parseHost(d.address), a);
      }
      if (!bracketed) {
        const inBrackets = verdict(`[${h}]`);
        assert.equal(
          !(inBrackets instanceof RelayError) || inBrackets.code !== 'malformed-request',
          a.kind === 'ipv6',
          `[${h}]`,
        );
      }
    }),
    RUNS,
  );
});

test('directory: an endpoint is an authority host in its canonical spelling', () => {
  fc.assert(
    fc.property(hostish, fc.integer({ min: 1, max: 65535 }), (h, port) => {
      const a = authorityHost(h);
      const text = formatAuthority({ host: h, port });
      const endpoint = parseEndpoint(text);
      const canonical = a !== undefined && a.host === h;
      assert.equal(endpoint !== undefined, canonical, text);
      if (endpoint !== undefined) assert.deepEqual(endpoint, { host: a?.host, port });
      assert.equal(entryFields.endpoint.safeParse(text).success, canonical, text);
    }),
    RUNS,
  );
});

test('outer hop: CONNECT and the WebSocket path name exactly the relay-id egresses', () => {
  fc.assert(
    fc.property(hostish, (h) => {
      const a = authorityHost(h);
      let viaConnect: string | undefined;
      try {
        viaConnect = egressIdFromAuthority(formatAuthority({ host: h, port: 443 }));
      } catch (err) {
        assert.ok(err instanceof RelayError, String(err));
        assert.ok(['malformed-request', 'unknown-egress'].includes(err.code), err.code);
      }
      const expected = a?.kind === 'dns' && isRelayId(a.host) ? a.host : undefined;
      assert.equal(viaConnect, expected, h);
      // The path is read as spelled; what it accepts, CONNECT accepts as the same egress.
      const viaPath = egressIdFromWebSocketPath(`${WEBSOCKET_PATH_PREFIX}${h}`);
      assert.equal(viaPath, isRelayId(h) ? h : undefined, h);
      if (viaPath !== undefined) assert.equal(viaConnect, viaPath);
      if (viaConnect !== undefined) {
        assert.equal(
          egressIdFromWebSocketPath(`${WEBSOCKET_PATH_PREFIX}${viaConnect}`),
          viaConnect,
        );
      }
      // Only port 443 names an egress.
      if (expected !== undefined) {
        assert.throws(() => egressIdFromAuthority(`${h}:8443`), RelayError);
      }
    }),
    RUNS,
  );
});

test('relay ids are one DNS label authority keeps as given (what the id layers accept)', () => {
  fc.assert(
    fc.property(hostish, (h) => {
      const a = authorityHost(h);
      const label = a?.kind === 'dns' && a.host === h && !h.includes('.') && !h.includes('_');
      assert.equal(isRelayId(h), label, h);
      assert.equal(relayId.safeParse(h).success, label, h);
      assert.equal(relayIdSchema.safeParse(h).success, label, h);
      assert.equal(entryFields.id.safeParse(h).success, label, h);
      assert.equal(
        issuerKeysMessageSchema.shape.issuerId.safeParse(h).success,
        label,
        `issuerId ${h}`,
      );
      // NATS subjects carry the id as their last token.
      const subject = `splitrelay.directory.entry.${h}`;
      assert.deepEqual(
        parseSubject(subject),
        label ? { family: 'directory', id: h } : undefined,
        subject,
      );
      if (label) assert.equal(directorySubject(h), subject);
      else assert.throws(() => directorySubject(h), TypeError);
    }),
    RUNS,
  );
});

test('DNS names in configs and announcements: authority’s DNS hosts, canonically spelled', () => {
  fc.assert(
    fc.property(hostish, (h) => {
      const a = authorityHost(h);
      const expected = a?.kind === 'dns' && a.host === h;
      assert.equal(dnsName.safeParse(h).success, expected, h);
      assert.equal(issuerKeysMessageSchema.shape.issuerName.safeParse(h).success, expected, h);
    }),
    RUNS,
  );
});

test('config listen addresses: authority hosts in any spelling, read back canonical', () => {
  fc.assert(
    fc.property(hostish, fc.integer({ min: 0, max: 65535 }), (h, port) => {
      const a = authorityHost(h);
      const text = formatAuthority({ host: h, port });
      assert.equal(listenAddress.safeParse(text).success, a !== undefined, text);
      if (a !== undefined) assert.deepEqual(splitHostPort(text), { host: a.host, port });
    }),
    RUNS,
  );
});

test('SOCKS5 DOMAINNAME: a name is accepted, and typed, exactly as authority reads it', () => {
  fc.assert(
    fc.property(
      hostish.filter((h) => h.length > 0 && h.length <= 255 && [...h].every((c) => c < '\u0100')),
      (h) => {
        const a = authorityHost(h);
        const bytes = Uint8Array.from([
          Atyp.domainName,
          h.length,
          ...Buffer.from(h, 'latin1'),
          1,
          187,
        ]);
        let decoded;
        try {
          decoded = decodeAddress(bytes, 0);
        } catch (err) {
          assert.ok(err instanceof RelayError, String(err));
        }
        if (a === undefined) {
          assert.equal(decoded, undefined, h);
        } else {
          assert.deepEqual(decoded, { address: { ...a, port: 443 }, end: bytes.length }, h);
        }
      },
    ),
    RUNS,
  );
});

test('CONNECT-UDP paths: target_host is accepted exactly as authority reads it', () => {
  const escape = (s: string): string =>
    [...new TextEncoder().encode(s)]
      .map((b) => {
        const ch = String.fromCharCode(b);
        return /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${b.toString(16).padStart(2, '0')}`;
      })
      .join('');
  fc.assert(
    fc.property(
      hostish.filter((h) => h.length > 0),
      (h) => {
        const a = authorityHost(h);
        let parsed;
        try {
          parsed = parseUdpPath(`${UDP_PATH_PREFIX}${escape(h)}/443/`);
        } catch (err) {
          assert.ok(err instanceof RelayError, String(err));
        }
        assert.deepEqual(parsed, a === undefined ? undefined : { ...a, port: 443 }, h);
        let formatted;
        try {
          formatted = formatUdpPath({ host: h, port: 443 });
        } catch (err) {
          assert.ok(err instanceof RelayError, String(err));
        }
        assert.equal(formatted !== undefined, a !== undefined, h);
      },
    ),
    RUNS,
  );
});
