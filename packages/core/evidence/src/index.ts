export { EvidenceError, isEvidenceError, type EvidenceErrorKind } from './errors.ts';

// 1. Identities and the leak search.
export {
  describeIdentity,
  parseAddress,
  targetIdentities,
  type Identity,
} from './search/identity.ts';
export { expandIdentity } from './search/forms.ts';
export type { Encoding, Needle } from './search/needle.ts';
export {
  findLeaks,
  type Finding,
  type Haystacks,
  type LeakSearchOptions,
} from './search/find-leaks.ts';

// 2. Captures: files, layers, streams, TLS.
export {
  CaptureParser,
  parseCapture,
  DEFAULT_MAX_PACKET_BYTES,
  type CaptureInfo,
  type CaptureParserOptions,
  type CapturedPacket,
  type ParsedCapture,
} from './capture/capture-file.ts';
export {
  dissectPacket,
  type DissectedPacket,
  type IpLayer,
  type LayerProblem,
  type TcpLayer,
  type UdpLayer,
} from './capture/layers.ts';
export {
  locate,
  reassembleTcp,
  type Endpoint,
  type ReassemblyOptions,
  type StreamPiece,
  type TcpConnection,
  type TcpStream,
} from './capture/tcp-streams.ts';
export { udpFlows, type UdpDatagram, type UdpFlow } from './capture/udp-flows.ts';
export {
  dissectCapture,
  type CaptureDissection,
  type DissectOptions,
} from './capture/dissect-capture.ts';
export { findLeaksInCapture, type CaptureFinding } from './capture/capture-leaks.ts';
export {
  decodeHandshake,
  encodeHandshake,
  decodeClientHello,
  encodeClientHello,
  decodeServerHello,
  encodeServerHello,
  isHelloRetryRequest,
  HANDSHAKE_CLIENT_HELLO,
  HANDSHAKE_SERVER_HELLO,
  HELLO_RETRY_REQUEST_RANDOM,
  MAX_HANDSHAKE_BYTES,
  type ClientHello,
  type HandshakeMessage,
  type ServerHello,
  type TlsExtension,
} from './tls/hello.ts';
export {
  encodeExtension,
  EXT_ALPN,
  EXT_KEY_SHARE,
  EXT_SERVER_NAME,
  EXT_SUPPORTED_GROUPS,
  EXT_SUPPORTED_VERSIONS,
  type KeyShareEntry,
} from './tls/extensions.ts';
export {
  readHandshakes,
  type HandshakeRead,
  type HandshakeStop,
  type LocatedHandshake,
} from './tls/records.ts';
export {
  clientHelloFacts,
  serverHelloFacts,
  tlsConnectionFacts,
  type ClientHelloFacts,
  type EvidenceLocation,
  type ServerHelloFacts,
  type TlsConnectionFacts,
} from './tls/tls-facts.ts';
export { cipherSuiteName, groupName, versionName, TLS13, X25519MLKEM768 } from './tls/names.ts';

// 3. Verdicts and the report.
export {
  absenceCheck,
  presenceCheck,
  findingEvidence,
  CHECK_RESULTS,
  MAX_EXCERPT,
  type Check,
  type CheckInput,
  type CheckResult,
  type EvidenceInput,
  type EvidenceRef,
} from './report/verdict.ts';
export {
  EXPECTED,
  PARTIES,
  PROPERTIES,
  cellResult,
  type CellInput,
  type Observation,
  type Party,
  type PrivacyCell,
  type Property,
} from './report/privacy-table.ts';
export {
  buildReport,
  renderJson,
  REPORT_SCHEMA_VERSION,
  type Report,
  type ReportInput,
  type ReportNote,
  type Verdict,
} from './report/report.ts';
export { renderMarkdown } from './report/render-markdown.ts';
export { renderHtml } from './report/render-html.ts';
export { escapeHtml, escapeMarkdown } from './report/escape.ts';
