/**
 * The phases of every tunnel a relay serves, ingress and egress alike:
 *
 *   decide ──▶ open ──▶ accept ──▶ join
 *   (pure)    (I/O; aborted     (answer    (splice, UDP bridge, ...)
 *              if the client     200 or
 *              goes away)        upgrade)
 *      └──────────┴────────────────┴──▶ any failure: one refusal
 *
 * The request decides what to open (a target, an egress); the caller's policy and dialler open
 * it; only then does the client hear 200. A failure at any phase before the answer is answered
 * once, with the failure's own status. A failure after it (a join that throws) cannot be
 * answered any more: both sides are destroyed.
 */
import type { Duplex } from 'node:stream';
import { toRelayError, type RelayError } from '@splitrelay/errors';

/** What `open` gives back: a stream (destroy) or a datagram socket (close). */
export type Closable = { destroy(): unknown } | { close(): unknown };

export interface TunnelPhases<Decision, Upstream extends Closable, Accepted> {
  /** The client's side; its 'close' while `open` runs aborts `open`'s signal. */
  readonly downstream: Duplex;
  /** Reads what the request asks for; throws (a RelayError) to refuse it. */
  readonly decide: () => Decision;
  /** Policy and dial: the upstream for this decision, or a rejection with a RelayError. */
  readonly open: (decision: Decision, signal: AbortSignal) => Promise<Upstream>;
  /** Answers the client (200, or a WebSocket upgrade); what it returns is passed to `join`. */
  readonly accept: () => Accepted | Promise<Accepted>;
  /** Joins the two sides; runs once, right after `accept`. */
  readonly join: (upstream: Upstream, accepted: Accepted) => void;
  /**
   * The one refusal of a tunnel that failed before it was accepted: writes the answer and
   * reports it. `decision` is set when the failure came after `decide`.
   */
  readonly refuse: (err: RelayError, decision: Decision | undefined) => void;
}

function dispose(upstream: Closable): void {
  if ('destroy' in upstream) upstream.destroy();
  else upstream.close();
}

/** Runs the phases; never rejects (a refusal that throws ends the downstream instead). */
export async function runTunnel<Decision, Upstream extends Closable, Accepted>(
  phases: TunnelPhases<Decision, Upstream, Accepted>,
): Promise<void> {
  const { downstream } = phases;
  const abort = new AbortController();
  const onGone = (): void => abort.abort();
  downstream.once('close', onGone);
  let decision: Decision | undefined;
  let upstream: Upstream | undefined;
  let accepted: Accepted;
  try {
    decision = phases.decide();
    upstream = await phases.open(decision, abort.signal);
    downstream.off('close', onGone);
    if (downstream.destroyed) {
      // The client left while the upstream opened (a dialler that ignored the signal).
      dispose(upstream);
      return;
    }
    accepted = await phases.accept();
  } catch (err) {
    downstream.off('close', onGone);
    if (upstream !== undefined) dispose(upstream);
    try {
      phases.refuse(toRelayError(err), decision);
    } catch {
      downstream.destroy();
    }
    return;
  }
  try {
    phases.join(upstream, accepted);
  } catch {
    dispose(upstream);
    downstream.destroy();
  }
}
