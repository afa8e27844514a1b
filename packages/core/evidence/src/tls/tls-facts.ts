/**
 * What a capture proves about one TLS connection, from its plaintext hellos: what the
 * client offered (SNI, ALPN, versions, groups, key shares), what the server chose (version,
 * cipher suite, key-share group), whether that is TLS 1.3 and whether the group is the
 * hybrid post-quantum X25519MLKEM768 (0x11EC, draft-ietf-tls-ecdhe-mlkem). Each hello points
 * at its packet and file offset.
 */
import { EvidenceError } from '../errors.ts';
import {
  locate,
  type Endpoint,
  type TcpConnection,
  type TcpStream,
} from '../capture/tcp-streams.ts';
import {
  decodeClientHello,
  decodeServerHello,
  HANDSHAKE_CLIENT_HELLO,
  HANDSHAKE_SERVER_HELLO,
  isHelloRetryRequest,
  type ClientHello,
  type ServerHello,
  type TlsExtension,
} from './hello.ts';
import {
  decodeAlpn,
  decodeClientKeyShare,
  decodeClientSupportedVersions,
  decodeHelloRetryKeyShare,
  decodeServerKeyShare,
  decodeServerName,
  decodeServerSupportedVersion,
  decodeSupportedGroups,
  EXT_ALPN,
  EXT_KEY_SHARE,
  EXT_SERVER_NAME,
  EXT_SUPPORTED_GROUPS,
  EXT_SUPPORTED_VERSIONS,
} from './extensions.ts';
import { readHandshakes, type HandshakeRead } from './records.ts';
import { TLS13, X25519MLKEM768 } from './names.ts';

export interface EvidenceLocation {
  readonly packet: number;
  readonly fileOffset: number;
  readonly streamOffset: number;
}

export interface ClientHelloFacts {
  readonly at: EvidenceLocation;
  readonly sni?: string;
  readonly alpn: readonly string[];
  readonly supportedVersions: readonly number[];
  readonly supportedGroups: readonly number[];
  readonly keyShareGroups: readonly number[];
  readonly cipherSuites: readonly number[];
}

export interface ServerHelloFacts {
  readonly at: EvidenceLocation;
  readonly helloRetryRequest: boolean;
  readonly legacyVersion: number;
  /** From supported_versions; absent before TLS 1.3. */
  readonly selectedVersion?: number;
  readonly cipherSuite: number;
  /** The key_share group (the selected_group of a HelloRetryRequest). */
  readonly keyShareGroup?: number;
}

export interface TlsConnectionFacts {
  readonly connection: number;
  readonly client: Endpoint;
  readonly server: Endpoint;
  /** One, or two after a HelloRetryRequest. */
  readonly clientHellos: readonly ClientHelloFacts[];
  readonly helloRetryRequest?: ServerHelloFacts;
  readonly serverHello?: ServerHelloFacts;
  /** The version the server selected: 0x0304 from supported_versions, else its legacy_version. */
  readonly version?: number;
  readonly tls13: boolean;
  readonly keyExchangeGroup?: number;
  readonly postQuantum: boolean;
  /** What could not be read, without quoting input: "ServerHello malformed at file offset N". */
  readonly problems: readonly string[];
}

function ext(extensions: readonly TlsExtension[], type: number): Uint8Array | undefined {
  return extensions.find((e) => e.type === type)?.data;
}

function where(
  stream: TcpStream,
  streamOffset: number,
  connection: TcpConnection,
  toServer: boolean,
): EvidenceLocation {
  const at = locate(stream, streamOffset);
  return {
    packet: at?.packet ?? (toServer ? connection.firstPacket : connection.lastPacket),
    fileOffset: at?.fileOffset ?? -1,
    streamOffset,
  };
}

export function clientHelloFacts(ch: ClientHello, at: EvidenceLocation): ClientHelloFacts {
  const sni = ext(ch.extensions, EXT_SERVER_NAME);
  const alpn = ext(ch.extensions, EXT_ALPN);
  const versions = ext(ch.extensions, EXT_SUPPORTED_VERSIONS);
  const groups = ext(ch.extensions, EXT_SUPPORTED_GROUPS);
  const shares = ext(ch.extensions, EXT_KEY_SHARE);
  const name = sni === undefined ? undefined : decodeServerName(sni);
  return {
    at,
    ...(name === undefined ? {} : { sni: name }),
    alpn: alpn === undefined ? [] : decodeAlpn(alpn),
    supportedVersions: versions === undefined ? [] : decodeClientSupportedVersions(versions),
    supportedGroups: groups === undefined ? [] : decodeSupportedGroups(groups),
    keyShareGroups: shares === undefined ? [] : decodeClientKeyShare(shares).map((s) => s.group),
    cipherSuites: ch.cipherSuites,
  };
}

export function serverHelloFacts(sh: ServerHello, at: EvidenceLocation): ServerHelloFacts {
  const hrr = isHelloRetryRequest(sh);
  const versions = ext(sh.extensions, EXT_SUPPORTED_VERSIONS);
  const share = ext(sh.extensions, EXT_KEY_SHARE);
  const group =
    share === undefined
      ? undefined
      : hrr
        ? decodeHelloRetryKeyShare(share)
        : decodeServerKeyShare(share).group;
  const selected = versions === undefined ? undefined : decodeServerSupportedVersion(versions);
  return {
    at,
    helloRetryRequest: hrr,
    legacyVersion: sh.legacyVersion,
    ...(selected === undefined ? {} : { selectedVersion: selected }),
    cipherSuite: sh.cipherSuite,
    ...(group === undefined ? {} : { keyShareGroup: group }),
  };
}

/** The stream up to its first gap: past a hole, record boundaries are lost. */
function contiguous(stream: TcpStream): Uint8Array {
  const gap = stream.gaps[0];
  return gap === undefined ? stream.bytes : stream.bytes.subarray(0, gap.streamOffset);
}

function looksLikeTls(bytes: Uint8Array): boolean {
  return bytes[0] === 22 && bytes[1] === 3;
}

/** TLS facts for a connection whose client starts with a handshake record, else undefined. */
export function tlsConnectionFacts(connection: TcpConnection): TlsConnectionFacts | undefined {
  const toServer = contiguous(connection.toServer);
  if (!looksLikeTls(toServer)) return undefined;
  const toClient = contiguous(connection.toClient);
  const problems: string[] = [];
  const decodeAll = <T>(
    read: HandshakeRead,
    type: number,
    stream: TcpStream,
    isToServer: boolean,
    decode: (body: Uint8Array, at: EvidenceLocation) => T,
    what: string,
  ): T[] => {
    const out: T[] = [];
    for (const m of read.messages) {
      if (m.type !== type) continue;
      const at = where(stream, m.streamOffset, connection, isToServer);
      try {
        out.push(decode(m.body, at));
      } catch (err) {
        if (!(err instanceof EvidenceError)) throw err;
        problems.push(`${what} malformed at packet ${at.packet}, file offset ${at.fileOffset}`);
      }
    }
    return out;
  };

  let serverRead = readHandshakes(toClient, { changeCipherSpecs: 0 });
  let serverHellos = decodeAll(
    serverRead,
    HANDSHAKE_SERVER_HELLO,
    connection.toClient,
    false,
    (b, at) => serverHelloFacts(decodeServerHello(b), at),
    'ServerHello',
  );
  const retried = serverHellos[0]?.helloRetryRequest === true;
  if (retried) {
    // Past the compatibility change_cipher_spec of RFC 8446 §D.4 comes the real ServerHello.
    serverRead = readHandshakes(toClient, { changeCipherSpecs: 1 });
    serverHellos = decodeAll(
      serverRead,
      HANDSHAKE_SERVER_HELLO,
      connection.toClient,
      false,
      (b, at) => serverHelloFacts(decodeServerHello(b), at),
      'ServerHello',
    );
  }
  const clientRead = readHandshakes(toServer, { changeCipherSpecs: retried ? 1 : 0 });
  const clientHellos = decodeAll(
    clientRead,
    HANDSHAKE_CLIENT_HELLO,
    connection.toServer,
    true,
    (b, at) => clientHelloFacts(decodeClientHello(b), at),
    'ClientHello',
  );

  const helloRetryRequest = serverHellos.find((s) => s.helloRetryRequest);
  const serverHello = serverHellos.find((s) => !s.helloRetryRequest);
  if (clientHellos.length === 0) problems.push('no ClientHello');
  if (!serverHello) problems.push('no ServerHello');
  if (clientRead.alert || serverRead.alert) problems.push('alert during the handshake');
  const version = serverHello?.selectedVersion ?? serverHello?.legacyVersion;
  const tls13 = serverHello?.selectedVersion === TLS13;
  const group = serverHello?.keyShareGroup;
  return {
    connection: connection.id,
    client: connection.client,
    server: connection.server,
    clientHellos,
    ...(helloRetryRequest ? { helloRetryRequest } : {}),
    ...(serverHello ? { serverHello } : {}),
    ...(version === undefined ? {} : { version }),
    tls13,
    ...(group === undefined ? {} : { keyExchangeGroup: group }),
    postQuantum: tls13 && group === X25519MLKEM768,
    problems,
  };
}
