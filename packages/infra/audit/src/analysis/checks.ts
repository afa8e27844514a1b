/**
 * The checks of one run, from its evidence folder. Each check is one claim, decided by a leak
 * search (absence: nothing found, or every finding as evidence) or by a positive fact
 * (presence: the traffic happened, the party did see what it must). Positive checks guard the
 * negative ones: a search over a run where nothing happened would pass for nothing.
 *
 * Each check names the privacy-table facet it bears on (`facet`), so cells.ts can decide each
 * cell from exactly the checks about it.
 */
import {
  type CheckInput,
  type CheckResult,
  type EvidenceInput,
  type Identity,
  type Party,
  type Property,
} from '@splitrelay/evidence';
import {
  clientIdentities,
  protectedContentIdentities,
  targetIdentities,
  tokenIdentities,
  udpContentIdentities,
  udpTemplateIdentity,
  type RedeemedToken,
} from '../identities.ts';
import { parseObservation, tokensInHeads } from '../relay-observation.ts';
import type { RunRecord } from '../run-record.ts';
import { AddressSet, hostOf } from './addresses.ts';
import { CONVERSATION, onlyConversations, type Sides } from './conversations.ts';
import { jsonLines, type EvidenceFiles } from './loader.ts';
import { leakEvidence, searchCapture, searchFiles, type Located } from './search.ts';
import { tlsHops } from './tls-hops.ts';

interface Facet {
  readonly party: Party;
  readonly property: Property;
  /** 'absence': a failure means the party learned it; 'presence': a pass means it did. */
  readonly kind: 'absence' | 'presence';
}

export interface AuditCheck extends CheckInput {
  readonly facets: readonly Facet[];
}

const facet = (party: Party, property: Property, kind: Facet['kind'] = 'absence'): Facet => ({
  party,
  property,
  kind,
});

function searched(files: readonly string[], what: string): EvidenceInput[] {
  return files.map((file) => ({ file, note: `searched for ${what}: nothing found` }));
}

function absence(
  id: string,
  statement: string,
  facets: readonly Facet[],
  findings: readonly Located[],
  files: readonly string[],
  what: string,
  cannotProve?: string,
): AuditCheck {
  if (findings.length > 0) {
    return {
      id,
      statement,
      facets,
      result: 'fail',
      evidence: leakEvidence(findings),
      detail: `${findings.length} finding${findings.length === 1 ? '' : 's'}${findings.length > 20 ? ' (the first 20 shown)' : ''}: ${[...new Set(findings.map((f) => f.identity))].join(', ')}`,
    };
  }
  if (files.length === 0 || cannotProve !== undefined) {
    return {
      id,
      statement,
      facets,
      result: 'cannot-prove-from-outside',
      evidence: searched(files, what),
      detail: cannotProve ?? 'no evidence of this could be collected in this run',
    };
  }
  return { id, statement, facets, result: 'pass', evidence: searched(files, what) };
}

export interface AnalysisInput {
  readonly record: RunRecord;
  readonly files: EvidenceFiles;
}

export function buildChecks({ record, files }: AnalysisInput): AuditCheck[] {
  const c = record.canaries;
  const lab = record.mode === 'lab';
  const egressAddresses = Object.values(record.addresses.egress).flat();
  const sides: Sides = {
    client: new AddressSet(record.addresses.client),
    ingress: new AddressSet(record.addresses.ingress),
    egress: new AddressSet(egressAddresses),
    issuer: new AddressSet(record.addresses.issuer),
    nats: new AddressSet(record.addresses.nats),
    target: new AddressSet(record.addresses.target),
    'client-resolver': new AddressSet(record.addresses.clientResolver),
  };
  const existing = (list: readonly { file: string }[]): string[] =>
    list.map((f) => f.file).filter((f) => files.bytes(f) !== undefined);
  const of = (party: string, list: readonly { party: string; file: string }[]): string[] =>
    existing(list.filter((f) => f.party === party));

  // What each relay decrypted and parsed, its logs, its socket tables.
  const observed = (party: string): string[] => of(party, record.observations);
  const plainOf = (party: string): string[] => [
    ...of(party, record.logs),
    ...of(party, record.sockets),
  ];
  const haystacks = (list: readonly string[]): Record<string, Uint8Array> =>
    Object.fromEntries(list.map((f) => [f, files.bytes(f) as Uint8Array]));
  const searchParty = (
    party: string,
    ids: readonly Identity[],
  ): { found: Located[]; files: string[] } => {
    const obs = observed(party);
    const plain = plainOf(party);
    return {
      found: [
        ...searchFiles(haystacks(obs), ids, { ciphertext: true }),
        ...searchFiles(haystacks(plain), ids, { ciphertext: false }),
      ],
      files: [...obs, ...plain],
    };
  };

  // The tokens the client redeemed, as the ingress parsed them.
  const tokens: RedeemedToken[] = observed('ingress').flatMap((f) =>
    tokensInHeads(parseObservation(files.bytes(f) as Uint8Array)),
  );
  const targetIds = targetIdentities(c);
  const ingressTargetIds = [...targetIds, udpTemplateIdentity];
  const contentIds = protectedContentIdentities(c);
  const clientIds = clientIdentities({
    addresses: record.addresses.client,
    ...(record.credential ? { credential: record.credential } : {}),
    tokens,
  });
  const checks: AuditCheck[] = [];
  const outside = lab
    ? undefined
    : "a live deployment's relays are not the auditor's to instrument";

  // --- The lab itself and the scenario -------------------------------------------------
  if (record.reachability) {
    const r = record.reachability;
    checks.push({
      id: 'lab-trust-model',
      statement:
        'The lab enforced the trust model: the ingress had no route to the target or the resolver, the egress none to the client, and every forbidden pair was refused',
      facets: [],
      result: r.enforced ? (r.ok ? 'pass' : 'fail') : 'not-applicable',
      evidence: [{ file: r.file, note: r.summary }],
      detail: r.summary,
    });
  }
  for (const s of record.steps) {
    checks.push({
      id: `scenario-${s.step}`,
      statement: `Scenario step "${s.step}" ran`,
      facets: [],
      result: s.outcome === 'ok' ? 'pass' : s.outcome === 'skipped' ? 'not-applicable' : 'fail',
      evidence: s.evidence ?? [],
      detail: s.detail,
    });
  }

  // --- The client ----------------------------------------------------------------------
  const driver = record.driver && files.text(record.driver);
  const driverLines = jsonLines(driver ?? undefined);
  const pages = driverLines.filter(
    (l) =>
      l.value.op === 'https' && l.value.ok === true && String(l.value.body ?? '').includes(c.page),
  );
  checks.push({
    id: 'client-reached-target',
    statement: 'The client reached the canary target through the relays and read its page',
    facets: [
      facet('client', 'knows-source', 'presence'),
      facet('client', 'knows-destination', 'presence'),
      facet('client', 'sees-content', 'presence'),
    ],
    result: pages.length > 0 ? 'pass' : 'fail',
    evidence: pages.slice(0, 3).map((l) => ({
      file: record.driver as string,
      offset: l.offset,
      note: 'the page, with its canary, as the client read it',
    })),
  });

  // --- The ingress ---------------------------------------------------------------------
  {
    const peers = observed('ingress').flatMap((f) =>
      parseObservation(files.bytes(f) as Uint8Array)
        .peers.filter((p) => sides.client.has(hostOf(p.peer)))
        .map((p) => ({
          file: f,
          offset: p.offset,
          note: `the ingress accepted the client ${p.peer}`,
        })),
    );
    const clientLink = record.captures.filter((x) => x.link === 'client').map((x) => x.file);
    const linkSeen = clientLink.flatMap((file) => {
      const cap = files.capture(file);
      const conv = cap && onlyConversations(cap, sides, [CONVERSATION.clientIngress]);
      const first = conv?.tcp[0];
      return first
        ? [
            {
              file,
              packet: first.firstPacket,
              note: `client ${first.client.address}:${first.client.port} to the ingress`,
            },
          ]
        : [];
    });
    const ev = [...peers.slice(0, 2), ...linkSeen.slice(0, 1)];
    checks.push({
      id: 'ingress-knows-client',
      statement: "The ingress saw the client's address (as it must: it admits the client)",
      facets: [facet('ingress', 'knows-source', 'presence')],
      result: ev.length > 0 ? 'pass' : 'fail',
      evidence: ev,
    });
  }
  {
    const { found, files: f } = searchParty('ingress', ingressTargetIds);
    checks.push(
      absence(
        'ingress-no-target',
        "The ingress never observed the target's name, address or port, nor a UDP template (in what it decrypted, the heads it parsed, its logs and its sockets)",
        [facet('ingress', 'knows-destination')],
        found,
        f,
        'the target and the UDP template',
        outside,
      ),
    );
  }
  {
    const { found, files: f } = searchParty('ingress', [...contentIds, ...udpContentIdentities(c)]);
    checks.push(
      absence(
        'ingress-no-content',
        'The ingress never observed content the client sent the target (request path, header, body, page, bulk, UDP payload)',
        [facet('ingress', 'sees-content')],
        found,
        f,
        'the content canaries',
        outside,
      ),
    );
  }

  // --- Links: the client's, and the trunk between ingress and egress --------------------
  const linkCheck = (
    id: string,
    statement: string,
    facets: readonly Facet[],
    links: readonly string[],
    conversations: readonly string[],
    ids: readonly Identity[],
    what: string,
  ): AuditCheck => {
    const caps = record.captures.filter(
      (x) => links.includes(x.link) && files.bytes(x.file) !== undefined,
    );
    const found = caps.flatMap((x) => {
      const cap = files.capture(x.file);
      return cap ? searchCapture(x.file, onlyConversations(cap, sides, conversations), ids) : [];
    });
    return absence(
      id,
      statement,
      facets,
      found,
      caps.map((x) => x.file),
      what,
      caps.length === 0 ? 'no capture of this link was made (tcpdump needs root)' : undefined,
    );
  };
  const clientConvs = [CONVERSATION.clientIngress, CONVERSATION.clientIssuer];
  checks.push(
    linkCheck(
      'client-link-no-target',
      "The client's link (to the ingress and the issuer) carried no target name, address or port in clear",
      [facet('ingress', 'knows-destination')],
      ['client'],
      clientConvs,
      ingressTargetIds,
      'the target in clear',
    ),
    linkCheck(
      'client-link-no-content',
      "The client's link carried none of the content canaries in clear",
      [facet('ingress', 'sees-content')],
      ['client'],
      clientConvs,
      [...contentIds, ...udpContentIdentities(c)],
      'the content canaries in clear',
    ),
  );
  if (lab || record.captures.some((x) => x.link === 'ingress')) {
    checks.push(
      linkCheck(
        'trunk-no-target',
        'The link between ingress and egress carried no target name, address or port in clear',
        [facet('ingress', 'knows-destination')],
        ['ingress'],
        [CONVERSATION.trunk],
        ingressTargetIds,
        'the target in clear',
      ),
      linkCheck(
        'trunk-no-client',
        'The link between ingress and egress carried no client address, token or credential in clear',
        [facet('egress', 'knows-source')],
        ['ingress'],
        [CONVERSATION.trunk],
        clientIds,
        'the client in clear',
      ),
      linkCheck(
        'trunk-no-content',
        'The link between ingress and egress carried none of the content canaries in clear',
        [facet('ingress', 'sees-content'), facet('egress', 'sees-content')],
        ['ingress'],
        [CONVERSATION.trunk],
        [...contentIds, ...udpContentIdentities(c)],
        'the content canaries in clear',
      ),
    );
  } else {
    checks.push({
      id: 'trunk-unobserved',
      statement: 'The link between ingress and egress carried nothing in clear',
      facets: [facet('ingress', 'knows-destination'), facet('egress', 'knows-source')],
      result: 'cannot-prove-from-outside',
      evidence: [],
      detail: "the trunk runs between the operators' machines; a live audit cannot capture it",
    });
  }

  // --- The client-side resolver ---------------------------------------------------------
  if (record.resolverProbe && record.clientResolver) {
    const probe = record.resolverProbe;
    const file = record.clientResolver;
    const seen = jsonLines(files.text(file)).filter((l) => l.value.name === probe);
    checks.push({
      id: 'client-resolver-recording',
      statement: "The client-side resolver's record works: the harness's own probe lookup is in it",
      facets: [],
      result: seen.length > 0 ? 'pass' : 'fail',
      evidence: seen.slice(0, 1).map((l) => ({
        file,
        offset: l.offset,
        note: `the probe ${probe}, from ${String(l.value.peer)}`,
      })),
    });
  }
  {
    const names: Identity[] = [
      { kind: 'dns-name', name: c.targetName, label: 'target name' },
      { kind: 'dns-name', name: c.dnsQuestion, label: 'DNS question name' },
    ];
    const list = [record.clientResolver, record.clientObserver].filter(
      (f): f is string => f !== undefined && files.bytes(f) !== undefined,
    );
    const found = searchFiles(haystacks(list), names, { ciphertext: false });
    const dnsOnLink = record.captures
      .filter((x) => x.link === 'client' && files.bytes(x.file) !== undefined)
      .flatMap((x) => {
        const cap = files.capture(x.file);
        if (!cap) return [];
        const dns = {
          ...cap,
          tcp: cap.tcp.filter((t) => t.server.port === 53),
          udp: cap.udp.filter((u) => u.responder.port === 53),
          tls: [],
        };
        return searchCapture(x.file, dns, names);
      });
    checks.push(
      absence(
        'client-resolver-no-target',
        'The client-side resolver saw no target name (no DNS leak): not in the queries it received, not in any name the client process looked up, not in DNS on the client link',
        [facet('ingress', 'knows-destination')],
        [...found, ...dnsOnLink],
        [...list, ...record.captures.filter((x) => x.link === 'client').map((x) => x.file)],
        'target names',
      ),
    );
  }

  // --- The egress ----------------------------------------------------------------------
  {
    const ev = observed('egress').flatMap((f) => {
      const hit = searchFiles(
        { [f]: files.bytes(f) as Uint8Array },
        [{ kind: 'dns-name', name: c.targetName, label: 'target name' }],
        { ciphertext: true },
      );
      return hit.slice(0, 1).map((h) => ({
        file: f,
        offset: h.offset,
        excerpt: h.context,
        note: 'the egress read the target name (as it must: it dials the target)',
      }));
    });
    const targetSaw = record.target
      ? jsonLines(files.text(`${record.target}/tls.jsonl`)).filter((l) =>
          sides.egress.has(hostOf(String(l.value.peer))),
        )
      : [];
    const all = [
      ...ev.slice(0, 2),
      ...targetSaw.slice(0, 1).map((l) => ({
        file: `${record.target}/tls.jsonl`,
        offset: l.offset,
        note: `the target was dialled from the egress ${String(l.value.peer)}`,
      })),
    ];
    checks.push({
      id: 'egress-knows-target',
      statement: 'The egress learned the target (as it must: it connects to it)',
      facets: [facet('egress', 'knows-destination', 'presence')],
      result: all.length > 0 ? 'pass' : 'fail',
      evidence: all,
    });
  }
  {
    const { found, files: f } = searchParty('egress', clientIds);
    checks.push(
      absence(
        'egress-no-client',
        "The egress never observed the client's address, its token or its subscriber credential (in what it decrypted, the heads it parsed, its logs and its sockets)",
        [facet('egress', 'knows-source')],
        found,
        f,
        'the client',
        outside,
      ),
    );
  }
  {
    const { found, files: f } = searchParty('egress', contentIds);
    checks.push(
      absence(
        'egress-no-content',
        'The egress never observed content the client encrypts end to end to the target (request path, header, body, page, bulk)',
        [facet('egress', 'sees-content')],
        found,
        f,
        'the content canaries',
        outside,
      ),
    );
  }

  // --- The target ----------------------------------------------------------------------
  if (record.target) {
    const dir = record.target;
    const parts = ['tls.jsonl', 'http.jsonl', 'udp.jsonl', 'dns.jsonl']
      .map((n) => `${dir}/${n}`)
      .filter((f) => files.bytes(f) !== undefined);
    // TCP and UDP reach the target from the egress. DNS questions come from whatever resolver
    // the egress uses (in a live deployment, anywhere), so only the client's own side is foreign.
    const foreign = parts.flatMap((file) =>
      jsonLines(files.text(file))
        .filter((l) => {
          if (typeof l.value.peer !== 'string') return false;
          const host = hostOf(l.value.peer);
          return file.endsWith('/dns.jsonl')
            ? sides.client.has(host) ||
                sides.ingress.has(host) ||
                sides['client-resolver'].has(host)
            : !sides.egress.has(host);
        })
        .map((l) => ({
          file,
          offset: l.offset,
          note: `a source that is not the egress: ${String(l.value.peer)}`,
        })),
    );
    const seen = parts.reduce((n, f) => n + jsonLines(files.text(f)).length, 0);
    checks.push({
      id: 'target-saw-only-egress',
      statement:
        "The target saw only the egress's addresses as sources of TCP and UDP, and no DNS question from the client's side",
      facets: [],
      result: seen === 0 ? 'fail' : foreign.length > 0 ? 'fail' : 'pass',
      evidence:
        foreign.length > 0
          ? foreign.slice(0, 20)
          : parts.map((file) => ({ file, note: 'every source is an egress address' })),
      detail:
        seen === 0
          ? 'the target received nothing'
          : `${seen} records, ${foreign.length} from elsewhere`,
    });
    const http = `${dir}/http.jsonl`;
    const forwarding = jsonLines(files.text(http)).flatMap((l) => {
      const raw = (l.value.rawHeaders ?? []) as string[];
      return raw
        .filter((_, i) => i % 2 === 0)
        .filter((name) =>
          /^(forwarded|via|x-forwarded-[a-z-]+|x-real-ip|client-ip|true-client-ip)$/i.test(name),
        )
        .map((name) => ({ file: http, offset: l.offset, note: `the request carried ${name}` }));
    });
    const found = searchFiles(haystacks(parts), clientIds, { ciphertext: false });
    checks.push({
      id: 'target-no-client',
      statement:
        'Nothing the target received identifies the client: no Forwarded, Via or X-Forwarded-For, no client address, token or credential in any header or payload',
      facets: [],
      result: forwarding.length + found.length > 0 ? 'fail' : parts.length === 0 ? 'fail' : 'pass',
      evidence:
        forwarding.length + found.length > 0
          ? [...forwarding, ...leakEvidence(found)].slice(0, 20)
          : searched(parts, 'the client and forwarding headers'),
    });
  }

  // --- The issuer ----------------------------------------------------------------------
  {
    const ids: Identity[] = record.credential
      ? [{ kind: 'text', text: record.credential, label: 'subscriber credential' }]
      : [];
    const obs = observed('issuer');
    const hit = searchFiles(haystacks(obs), ids, { ciphertext: true }).slice(0, 1);
    const client = record.clientObserver
      ? jsonLines(files.text(record.clientObserver)).filter(
          (l) => l.value.kind === 'tls' && sides.issuer.has(hostOf(String(l.value.remote))),
        )
      : [];
    const ev: EvidenceInput[] = [
      ...leakEvidence(hit).map((e) => ({
        ...e,
        note: 'the issuer read the subscriber credential (as it must: it admits subscribers)',
      })),
      ...client.slice(0, 1).map((l) => ({
        file: record.clientObserver as string,
        offset: l.offset,
        note: 'the client opened TLS to the issuer to fetch tokens',
      })),
    ];
    checks.push({
      id: 'issuer-knows-subscriber',
      statement: 'The issuer learned its subscriber (as it must: it checks the credential)',
      facets: [facet('issuer', 'knows-source', 'presence')],
      result: ev.length > 0 ? 'pass' : 'fail',
      evidence: ev,
    });
  }
  {
    const { found, files: f } = searchParty('issuer', tokenIdentities(tokens));
    checks.push(
      tokens.length === 0
        ? {
            id: 'issuer-not-joinable',
            statement:
              "The issuer's records cannot be joined with the ingress's: no redeemed nonce or authenticator in what the issuer saw",
            facets: [facet('issuer', 'knows-destination')],
            result: lab ? 'fail' : 'cannot-prove-from-outside',
            evidence: [],
            detail: lab
              ? 'no token was redeemed at the ingress, so there was nothing to join'
              : 'the redeemed tokens are seen only at the ingress',
          }
        : absence(
            'issuer-not-joinable',
            "The issuer's records cannot be joined with the ingress's: no redeemed nonce or authenticator in what the issuer saw",
            [facet('issuer', 'knows-destination')],
            found,
            f,
            `the ${tokens.length} redeemed token${tokens.length === 1 ? '' : 's'}`,
            outside,
          ),
    );
  }
  {
    const { found, files: f } = searchParty('issuer', targetIds);
    checks.push(
      absence(
        'issuer-no-target',
        'The issuer never observed the target (name, address, port)',
        [facet('issuer', 'knows-destination')],
        found,
        f,
        'the target',
        outside,
      ),
    );
  }
  {
    const { found, files: f } = searchParty('issuer', contentIds);
    checks.push(
      absence(
        'issuer-no-content',
        'The issuer never observed content the client sent the target',
        [facet('issuer', 'sees-content')],
        found,
        f,
        'the content canaries',
        outside,
      ),
    );
  }

  // --- The control plane ---------------------------------------------------------------
  {
    const file = record.controlPlane;
    const lines = jsonLines(file ? files.text(file) : undefined);
    checks.push({
      id: 'control-plane-observed',
      statement: 'The auditor account received the control-plane messages that crossed accounts',
      facets: [],
      result: lines.length > 0 ? 'pass' : 'fail',
      evidence: file
        ? [
            {
              file,
              note: `${lines.length} messages on ${new Set(lines.map((l) => String(l.value.subject))).size} subjects`,
            },
          ]
        : [],
    });
    const list = file && files.bytes(file) ? [file] : [];
    const cp = (
      id: string,
      statement: string,
      f: Facet,
      ids: readonly Identity[],
      what: string,
    ): AuditCheck =>
      absence(
        id,
        statement,
        [f],
        searchFiles(haystacks(list), ids, { ciphertext: false }),
        list,
        what,
      );
    checks.push(
      cp(
        'control-plane-no-client',
        'Control-plane messages hold nothing about the client (address, token, credential)',
        facet('control-plane', 'knows-source'),
        clientIds,
        'the client',
      ),
      cp(
        'control-plane-no-target',
        'Control-plane messages hold nothing about the target (name, address, port, UDP template)',
        facet('control-plane', 'knows-destination'),
        ingressTargetIds,
        'the target',
      ),
      cp(
        'control-plane-no-content',
        'Control-plane messages hold none of the content',
        facet('control-plane', 'sees-content'),
        [...contentIds, ...udpContentIdentities(c)],
        'the content canaries',
      ),
    );
  }

  // --- TLS on every hop ----------------------------------------------------------------
  checks.push(...tlsHops({ record, files, sides }));

  // --- Egress source rotation ----------------------------------------------------------
  checks.push(rotationCheck(record, files));

  return checks;
}

function rotationCheck(record: RunRecord, files: EvidenceFiles): AuditCheck {
  const statement =
    "The egress's source address and port for the client's flows do not stay the same across sessions where the deployment promises rotation";
  const file = record.target ? `${record.target}/tls.jsonl` : undefined;
  const lines = jsonLines(file ? files.text(file) : undefined);
  const byAddress = new Map<string, Set<string>>();
  for (const l of lines) {
    const peer = String(l.value.peer);
    const host = hostOf(peer);
    const ports = byAddress.get(host) ?? new Set<string>();
    ports.add(peer.slice(peer.lastIndexOf(':') + 1));
    byAddress.set(host, ports);
  }
  const observed = [...byAddress]
    .map(([a, p]) => `${a} (${p.size} source port${p.size === 1 ? '' : 's'})`)
    .join(', ');
  const detail = `observed at the target: ${lines.length} connections from ${observed || 'nowhere'}`;
  if (!record.rotation.promised) {
    return {
      id: 'egress-source-rotation',
      statement,
      facets: [],
      result: 'not-applicable',
      evidence: file ? [{ file, note: detail }] : [],
      detail: `${record.rotation.why}; ${detail}`,
    };
  }
  const result: CheckResult = byAddress.size > 1 ? 'pass' : 'fail';
  return {
    id: 'egress-source-rotation',
    statement,
    facets: [],
    result,
    evidence: file ? [{ file, note: detail }] : [],
    detail,
  };
}
