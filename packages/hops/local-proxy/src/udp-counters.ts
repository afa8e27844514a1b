/**
 * Aggregate counters for SOCKS UDP associations, shared by every association of a server.
 * Counts only: no target and no client address is ever recorded, so they are safe to log
 * periodically (as the relays' own `stats` lines are).
 */
export interface UdpCounters {
  /** Associations that got a success reply. */
  associations: number;
  /** Flows the connector opened. */
  flowsOpened: number;
  /** Datagrams handed to a flow, and datagrams sent back to the client. */
  datagramsUp: number;
  datagramsDown: number;
  /** From an address or port other than the association's client. */
  droppedForeignSource: number;
  /** Truncated, unparseable, or naming port 0. */
  droppedMalformed: number;
  /** FRAG != 0: fragments are not reassembled (RFC 1928 §7 allows dropping them). */
  droppedFragment: number;
  /** Arrived while the target's flow was opening and its queue was full. */
  droppedQueueFull: number;
  /** A new target while the association already had its maximum of flows. */
  droppedFlowLimit: number;
  /** For a target whose open was refused: its queue, and datagrams within the failure hold. */
  droppedRefused: number;
  /**
   * Dropped by a flow itself: its queue towards the egress full, a datagram too large, or one
   * from the egress with an unknown context (summed as each flow ends).
   */
  droppedInFlow: number;
  /** Replies the UDP socket failed to send (e.g. too large for a datagram). */
  sendErrors: number;
  /**
   * The receive buffer the kernel gave the last association socket, bytes (it reserves twice
   * what is asked, within net.core.rmem_max): what a burst must fit in.
   */
  recvBufferBytes: number;
}

export function createUdpCounters(): UdpCounters {
  return {
    associations: 0,
    flowsOpened: 0,
    datagramsUp: 0,
    datagramsDown: 0,
    droppedForeignSource: 0,
    droppedMalformed: 0,
    droppedFragment: 0,
    droppedQueueFull: 0,
    droppedFlowLimit: 0,
    droppedRefused: 0,
    droppedInFlow: 0,
    sendErrors: 0,
    recvBufferBytes: 0,
  };
}
