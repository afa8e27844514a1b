/**
 * TLS on every hop of SplitRelay's data path, each from the evidence that sees it:
 *
 *   client → ingress     the client link's capture (the hellos are plaintext)
 *   client → issuer      the client link's capture
 *   ingress → egress     the ingress link's capture (the trunk; lab only)
 *   client → egress      the inner session runs inside the outer tunnel, so no capture sees
 *                        its hellos: the client's own record of the handshake (client observer)
 *
 * plus the client's own TLS to the target (not a SplitRelay hop: the client's software chose
 * it), from the target link's capture or, failing that, the ClientHello the target recorded.
 * Each hop must have negotiated TLS 1.3; the key exchange group is recorded, and a separate
 * check says whether every SplitRelay hop used the post-quantum hybrid X25519MLKEM768.
 */
import {
  HANDSHAKE_CLIENT_HELLO,
  TLS13,
  X25519MLKEM768,
  clientHelloFacts,
  decodeClientHello,
  decodeHandshake,
  groupName,
  versionName,
  type EvidenceInput,
  type TlsConnectionFacts,
} from '@splitrelay/evidence';
import type { RunRecord } from '../run-record.ts';
import { hostOf } from './addresses.ts';
import type { AuditCheck } from './checks.ts';
import { CONVERSATION, onlyConversations, type Sides } from './conversations.ts';
import { jsonLines, type EvidenceFiles } from './loader.ts';

interface HopHandshake {
  readonly tls13: boolean;
  readonly group: string;
  readonly pq: boolean;
  readonly evidence: EvidenceInput;
}

interface Hop {
  readonly id: string;
  readonly name: string;
  readonly handshakes: readonly HopHandshake[];
  /** Why nothing could be seen, when the hop cannot be observed in this mode. */
  readonly unobservable?: string;
  readonly splitrelay: boolean;
}

function fromCapture(file: string, facts: readonly TlsConnectionFacts[]): HopHandshake[] {
  return facts
    .filter((t) => t.serverHello !== undefined)
    .map((t) => {
      const group = t.keyExchangeGroup === undefined ? 'unknown' : groupName(t.keyExchangeGroup);
      const version = t.version === undefined ? 'unknown' : versionName(t.version);
      const sh = t.serverHello!;
      return {
        tls13: t.tls13,
        group,
        pq: t.postQuantum,
        evidence: {
          file,
          packet: sh.at.packet,
          offset: sh.at.fileOffset,
          note: `${t.client.address}:${t.client.port} → ${t.server.address}:${t.server.port}: ServerHello selects ${version}, ${group}`,
        },
      };
    });
}

export function tlsHops({
  record,
  files,
  sides,
}: {
  record: RunRecord;
  files: EvidenceFiles;
  sides: Sides;
}): AuditCheck[] {
  const onLink = (link: string, conversation: string): HopHandshake[] =>
    record.captures
      .filter((x) => x.link === link)
      .flatMap((x) => {
        const cap = files.capture(x.file);
        return cap ? fromCapture(x.file, onlyConversations(cap, sides, [conversation]).tls) : [];
      });
  const clientRecords = record.clientObserver
    ? jsonLines(files.text(record.clientObserver)).filter((l) => l.value.kind === 'tls')
    : [];
  /** The client's own record of its handshakes: where no capture sees a hop (or none was made). */
  const recorded = (match: (l: Record<string, unknown>) => boolean, what: string): HopHandshake[] =>
    clientRecords
      .filter((l) => match(l.value))
      .map((l) => {
        const group = String(l.value.group ?? 'unknown');
        return {
          tls13: l.value.protocol === 'TLSv1.3',
          group,
          pq: group === groupName(X25519MLKEM768),
          evidence: {
            file: record.clientObserver as string,
            offset: l.offset,
            note: `${what} ${String(l.value.servername)}: ${String(l.value.protocol)}, ${group} (the client's record of its handshake)`,
          },
        };
      });
  const inner = recorded((v) => v.tunnelled === true, 'inner session to');
  const toSide = (side: 'ingress' | 'issuer') => (v: Record<string, unknown>) =>
    v.tunnelled !== true && sides[side].has(hostOf(String(v.remote)));
  const haveCapture = (link: string): boolean => record.captures.some((x) => x.link === link);
  const targetHandshakes = orRecorded(
    onLink('target', CONVERSATION.egressTarget),
    targetClientHellos(record, files),
  );
  const hops: Hop[] = [
    {
      id: 'client-ingress',
      name: 'client → ingress (outer TLS)',
      handshakes: orRecorded(
        onLink('client', CONVERSATION.clientIngress),
        recorded(toSide('ingress'), 'outer TLS to'),
      ),
      splitrelay: true,
    },
    {
      id: 'client-issuer',
      name: 'client → issuer (token issuance)',
      handshakes: orRecorded(
        onLink('client', CONVERSATION.clientIssuer),
        recorded(toSide('issuer'), 'token issuance at'),
      ),
      splitrelay: true,
    },
    {
      id: 'trunk',
      name: 'ingress → egress (trunk, mutual TLS)',
      handshakes: onLink('ingress', CONVERSATION.trunk),
      splitrelay: true,
      ...(haveCapture('ingress')
        ? {}
        : {
            unobservable:
              record.mode === 'live'
                ? "the trunk runs between the operators' machines"
                : 'no capture of the ingress link',
          }),
    },
    { id: 'inner', name: 'client → egress (inner session)', handshakes: inner, splitrelay: true },
    {
      id: 'client-target',
      name: "client → target (the client's own TLS, not a SplitRelay hop)",
      handshakes: targetHandshakes,
      splitrelay: false,
    },
  ];
  const checks: AuditCheck[] = hops.map((hop) => {
    const statement = `${hop.name}: TLS 1.3 negotiated, key exchange recorded`;
    if (hop.handshakes.length === 0) {
      return {
        id: `tls-${hop.id}`,
        statement,
        facets: [],
        result: hop.unobservable ? 'cannot-prove-from-outside' : 'fail',
        evidence: [],
        detail: hop.unobservable ?? 'no handshake of this hop was observed',
      };
    }
    const groups = [...new Set(hop.handshakes.map((h) => h.group))].join(', ');
    const old = hop.handshakes.filter((h) => !h.tls13);
    return {
      id: `tls-${hop.id}`,
      statement,
      facets: [],
      result: old.length > 0 ? 'fail' : 'pass',
      evidence: (old.length > 0 ? old : hop.handshakes).slice(0, 4).map((h) => h.evidence),
      detail: `${hop.handshakes.length} handshake${hop.handshakes.length === 1 ? '' : 's'}, key exchange: ${groups}${old.length > 0 ? `; ${old.length} not TLS 1.3` : ''}`,
    };
  });
  const ours = hops.filter((h) => h.splitrelay && h.handshakes.length > 0);
  const classical = ours.flatMap((h) => h.handshakes.filter((x) => !x.pq));
  checks.push({
    id: 'tls-post-quantum',
    statement:
      'Every observed SplitRelay hop used the post-quantum hybrid key exchange X25519MLKEM768',
    facets: [],
    result:
      ours.length === 0 ? 'cannot-prove-from-outside' : classical.length > 0 ? 'fail' : 'pass',
    evidence: (classical.length > 0 ? classical : ours.map((h) => h.handshakes[0] as HopHandshake))
      .slice(0, 8)
      .map((h) => h.evidence),
    detail: ours
      .map((h) => `${h.name}: ${[...new Set(h.handshakes.map((x) => x.group))].join(', ')}`)
      .join('; '),
  });
  return checks;
}

/** The capture's view when it has one; the client's own record otherwise. */
const orRecorded = (captured: HopHandshake[], recorded: HopHandshake[]): HopHandshake[] =>
  captured.length > 0 ? captured : recorded;

/**
 * Without a target-link capture, the ClientHellos the canary target recorded: what the
 * client offered (TLS 1.3 in supported_versions, its key shares). The target's choice is not
 * in that record, so the group shown is the client's first key share.
 */
function targetClientHellos(record: RunRecord, files: EvidenceFiles): HopHandshake[] {
  if (!record.target) return [];
  const file = `${record.target}/tls.jsonl`;
  return jsonLines(files.text(file)).flatMap((l) => {
    try {
      const bytes = Buffer.from(String(l.value.firstRecord), 'base64');
      const hs = decodeHandshake(bytes.subarray(5)).value;
      if (hs.type !== HANDSHAKE_CLIENT_HELLO) return [];
      const facts = clientHelloFacts(decodeClientHello(hs.body), {
        packet: 0,
        fileOffset: -1,
        streamOffset: 5,
      });
      const share = facts.keyShareGroups[0];
      return [
        {
          tls13: facts.supportedVersions.includes(TLS13),
          group: share === undefined ? 'none offered' : `${groupName(share)} (offered)`,
          pq: share === X25519MLKEM768,
          evidence: {
            file,
            offset: l.offset,
            note: `ClientHello from ${String(l.value.peer)}, SNI ${facts.sni ?? 'none'}`,
          },
        },
      ];
    } catch {
      return [];
    }
  });
}
