/**
 * The record of one audit run, written as `run.json` in its evidence folder: what was run,
 * where every observation is, what the scenario did. The analysis reads only this and the
 * files it names, so an evidence folder can be analysed again later (or by someone else)
 * without the lab. Paths are relative to the folder holding run.json.
 */
import type { Canaries } from './canaries.ts';
import type { Override } from './operator-config.ts';

export const RUN_RECORD_VERSION = 1;

/** The parties whose observations are kept apart, as the privacy table names them. */
type PartyName =
  'client' | 'ingress' | 'egress' | 'issuer' | 'control-plane' | 'target' | 'client-resolver';

/** Where a conversation's packets were captured: the link of one role (its router end). */
export interface CaptureRecord {
  /** The role whose link this is ("client" is the client's link to the network). */
  readonly link: string;
  readonly file: string;
  readonly packets?: number;
}

export interface FileRecord {
  readonly party: PartyName;
  /** E.g. "egress-1", "ingress"; the process or instance. */
  readonly instance: string;
  readonly file: string;
}

export interface StepRecord {
  readonly step: string;
  readonly outcome: 'ok' | 'failed' | 'skipped';
  readonly detail: string;
  readonly startedAt: string;
  readonly endedAt: string;
  /** Where its traffic is recorded, e.g. driver.jsonl lines. */
  readonly evidence?: readonly {
    readonly file: string;
    readonly offset?: number;
    readonly note?: string;
  }[];
}

export interface RunRecord {
  readonly version: typeof RUN_RECORD_VERSION;
  readonly mode: 'lab' | 'live';
  /** For a lab: namespaces, or the loopback fallback. */
  readonly labMode?: 'netns' | 'loopback';
  readonly title: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly canaries: Canaries;
  readonly addresses: {
    readonly client: readonly string[];
    readonly ingress: readonly string[];
    /** Per egress id. */
    readonly egress: Readonly<Record<string, readonly string[]>>;
    readonly issuer: readonly string[];
    readonly nats: readonly string[];
    readonly target: readonly string[];
    readonly clientResolver: readonly string[];
  };
  /** The subscriber credential the client holds (searched for where it must not be). */
  readonly credential?: string;
  readonly captures: readonly CaptureRecord[];
  /** What each relay decrypted and parsed (lab only). */
  readonly observations: readonly FileRecord[];
  readonly logs: readonly FileRecord[];
  readonly sockets: readonly FileRecord[];
  /** Socket samples are kept only from this window (a lab may host several runs). */
  readonly window: { readonly from: string; readonly to: string };
  readonly controlPlane?: string;
  readonly clientResolver?: string;
  /** A name the harness looked up through the client's resolver: its record must show it. */
  readonly resolverProbe?: string;
  /** The canary target's folder (tls.jsonl, http.jsonl, udp.jsonl, dns.jsonl). */
  readonly target?: string;
  readonly clientObserver?: string;
  readonly driver?: string;
  readonly steps: readonly StepRecord[];
  readonly overrides: readonly Override[];
  readonly limitations: readonly string[];
  /** Negative controls (leaky builds) injected into this run, by name. */
  readonly controls: readonly string[];
  /** Whether the deployment promises per-session egress source rotation, and why we think so. */
  readonly rotation: { readonly promised: boolean; readonly why: string };
  readonly reachability?: {
    readonly file: string;
    readonly ok: boolean;
    readonly enforced: boolean;
    readonly summary: string;
  };
}
