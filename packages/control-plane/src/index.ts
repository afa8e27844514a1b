export {
  FAMILIES,
  RELAY_ID,
  isRelayId,
  subjectFor,
  familyWildcard,
  directorySubject,
  egressHealthSubject,
  ingressHealthSubject,
  ingressCertSubject,
  parseSubject,
  type Family,
} from './subjects.ts';
export {
  relayIdSchema,
  healthSchema,
  ingressCertPayloadSchema,
  signedIngressCertSchema,
  directoryMessageSchema,
  schemaFor,
  messageId,
  quantizeLoad,
  HEALTH_STATUSES,
  MAX_COUNTER,
  MAX_TTL_MS,
  MAX_UNIX_MS,
  LOAD_STEPS,
  MAX_CERT_PEM_CHARS,
  KID_ON_WIRE,
  type Health,
  type HealthStatusField,
  type IngressCertPayload,
  type SignedIngressCert,
  type MessageTypes,
  type MessageOf,
} from './schemas.ts';
export {
  HealthTable,
  DEFAULT_MAX_TTL_MS,
  type HealthStatus,
  type HealthTableOptions,
  type HealthView,
} from './health-table.ts';
export { type ApplyResult, type RejectReason } from './versioned-store.ts';
export { DirectoryStore } from './directory-store.ts';
export {
  signIngressCert,
  verifyIngressCert,
  ingressCertPin,
  INGRESS_CERT_CONTEXT,
  type IngressCert,
} from './ingress-cert.ts';
export { IngressCertStore } from './ingress-cert-store.ts';
export {
  ControlPlaneClient,
  ControlSubscription,
  connectControlPlane,
  MAX_MESSAGE_BYTES,
  DROP_REASONS,
  type ConnectionState,
  type ConnectOptions,
  type ControlPlaneStats,
  type Delivery,
  type DropReason,
  type SubscribeOptions,
} from './nats.ts';
export {
  Announcer,
  Heartbeat,
  TTL_INTERVALS,
  type AnnouncerOptions,
  type ControlPlanePublisher,
  type HealthSample,
  type HeartbeatOptions,
} from './heartbeat.ts';
