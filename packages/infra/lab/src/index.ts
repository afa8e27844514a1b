export { createLab, type Lab, type LabSpec, type DestroyReport } from './lab.ts';
export type { RoleAddress } from './backend.ts';
export { ROLES, isRole, type Role } from './roles.ts';
export { LabError, isLabError, type LabErrorCode } from './lab-error.ts';
export {
  addressPlan,
  loopbackPlan,
  cidr,
  type AddressPlan,
  type RolePlan,
  type Subnet,
} from './addresses.ts';
export {
  TRUST_MODEL,
  mayOpen,
  routedPeers,
  expectedPairs,
  matrixProblems,
  trustModelDepartures,
  type ReachabilityMatrix,
} from './reachability.ts';
export { nftRuleset, iptablesRules, NFT_TABLE, type FirewallKind } from './firewall.ts';
export type { LinkInfo, LinkEnd } from './topology.ts';
export type { LabProcess, ProcessExit, SpawnOptions } from './processes.ts';
export type { Capture, CaptureFile, CaptureStats, CaptureOptions, LinkEndName } from './capture.ts';
export { SNAPLEN } from './capture.ts';
export {
  parseSs,
  parseProcNet,
  type SocketEntry,
  type SocketOwner,
  type Endpoint,
} from './sockets.ts';
export type { SocketSample } from './socket-sampler.ts';
export type {
  ReachabilityReport,
  ReachabilityCheck,
  ProbeOutcome,
  VerifyOptions,
} from './verify.ts';
export { sweepLabs, type SweepOptions, type SweepReport, type SweptLab } from './sweep.ts';
export type { CleanupResult } from './teardown.ts';
export { readManifest, defaultRegistryDir, type ManifestRecord } from './manifest.ts';
export { LAB_ID_ENV, LAB_MANIFEST_ENV } from './names.ts';
