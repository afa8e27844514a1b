// The lab mode: the real apps in network namespaces, everything observed.
export {
  openAuditLab,
  runLabAudit,
  SECOND_EGRESS,
  type AuditLab,
  type AuditLabOptions,
  type AuditOutcome,
  type OperatorConfigFiles,
  type RunOptions,
} from './lab/audit-lab.ts';
// The live mode: a deployment the auditor does not run, seen from a client and a canary.
export {
  runLiveAudit,
  liveSettingsSchema,
  LIVE_LIMITATIONS,
  type LiveAuditOptions,
  type LiveSettings,
  type LiveOutcome,
} from './live/live-audit.ts';
// The negative controls (leaky builds) and the analysis of an evidence folder.
export {
  CONTROLS,
  CONTROL_NAMES,
  isControlName,
  type Control,
  type ControlName,
} from './controls.ts';
export { analyzeRun, readRunRecord } from './analysis/analyze.ts';
export { writeReport, exitCodeOf, type ReportFiles } from './report-files.ts';
export type { RunRecord, StepRecord } from './run-record.ts';
// Pure parts, for tests and for auditors writing their own checks.
export { generateCanaries, CANARY_ZONE, CANARY_PORT_RANGE, type Canaries } from './canaries.ts';
export {
  clientIdentities,
  protectedContentIdentities,
  targetIdentities,
  tokenIdentities,
  UDP_TEMPLATE,
} from './identities.ts';
export {
  fitEgressConfig,
  fitIngressConfig,
  fitIssuerConfig,
  redactOverrides,
  type Override,
} from './operator-config.ts';
export { parseObservation, tokensInHeads, RELAY_OBSERVATION } from './relay-observation.ts';
export { decodeQuery, encodeQuery, encodeAnswer, decodeAnswer, DnsWireError } from './dns-wire.ts';
export { AuditError, isAuditError, type AuditErrorCode } from './audit-error.ts';
