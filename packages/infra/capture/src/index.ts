// Launching a process under observation.
export {
  CAPTURE_PRELOAD,
  DNS_OBSERVER_PRELOAD,
  captureLaunch,
  combineLaunches,
  dnsObserverLaunch,
  readLookups,
  type Launch,
} from './launch.ts';
export { CAPTURE_ENV, CAPTURE_LIMIT_ENV, DNS_OBSERVER_ENV } from './env.ts';

// Reading what it learned.
export {
  captureHaystacks,
  describePeer,
  headerValues,
  headsOf,
  parseCaptureFile,
  readCaptureFile,
  type Capture,
  type CapturedStream,
} from './capture-file.ts';
export {
  HEAD_KINDS,
  type CaptureRecord,
  type EndRecord,
  type HeadKind,
  type HeadRecord,
  type PeerRecord,
  type ReadRecord,
  type StreamRecord,
} from './records.ts';
export {
  CAPTURE_MAGIC,
  CaptureFileError,
  MAX_RECORD_BYTES,
  decodeRecord,
  encodeRecord,
  type CaptureFileErrorKind,
} from './codec.ts';
