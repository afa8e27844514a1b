/** The figures measured every round, with their unit and which way is better. */
export interface FigureSpec {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  /** Plotted in the ratio SVG (CPU rows are per role, the table shows them). */
  readonly plot: boolean;
  /** False where direct has nothing comparable (it starts no client). */
  readonly ratioToDirect?: boolean;
}

const cpu = (
  direction: 'download' | 'upload',
  role: 'client' | 'ingress' | 'egress',
): FigureSpec => ({
  id: `cpu.${direction}.${role}`,
  label: `CPU per GiB, ${direction}, ${role === 'ingress' ? 'ingress / jump sshd' : role === 'egress' ? 'egress / exit sshd' : 'client app / ssh'}`,
  unit: 's/GiB',
  better: 'lower',
  plot: role !== 'client',
});

export const FIGURES: readonly FigureSpec[] = [
  {
    id: 'bulk.download',
    label: 'Bulk download, one flow',
    unit: 'MB/s',
    better: 'higher',
    plot: true,
  },
  { id: 'bulk.upload', label: 'Bulk upload, one flow', unit: 'MB/s', better: 'higher', plot: true },
  {
    id: 'flow.p50',
    label: 'New flow on open session, first byte p50',
    unit: 'ms',
    better: 'lower',
    plot: true,
  },
  {
    id: 'flow.p90',
    label: 'New flow on open session, first byte p90',
    unit: 'ms',
    better: 'lower',
    plot: false,
  },
  {
    id: 'flow.p99',
    label: 'New flow on open session, first byte p99',
    unit: 'ms',
    better: 'lower',
    plot: true,
  },
  {
    id: 'flow.setup.p50',
    label: 'New flow, tunnel open (SOCKS reply) p50',
    unit: 'ms',
    better: 'lower',
    plot: false,
  },
  {
    id: 'cold',
    label: 'Cold start: new client through first byte',
    unit: 'ms',
    better: 'lower',
    plot: true,
    ratioToDirect: false,
  },
  {
    id: 'concurrent.aggregate',
    label: 'Concurrent flows, aggregate',
    unit: 'MB/s',
    better: 'higher',
    plot: true,
  },
  {
    id: 'concurrent.p99',
    label: 'Concurrent flows, first byte p99',
    unit: 'ms',
    better: 'lower',
    plot: true,
  },
  {
    id: 'udp.p50',
    label: 'UDP echo, 64-byte datagram, p50',
    unit: 'ms',
    better: 'lower',
    plot: true,
  },
  {
    id: 'udp.p99',
    label: 'UDP echo, 64-byte datagram, p99',
    unit: 'ms',
    better: 'lower',
    plot: false,
  },
  {
    id: 'udp.rate',
    label: 'UDP echoes per second, 1,200-byte datagrams, windowed',
    unit: 'dgram/s',
    better: 'higher',
    plot: true,
  },
  {
    id: 'udp.loss',
    label: 'UDP loss in that window run',
    unit: '%',
    better: 'lower',
    plot: false,
    ratioToDirect: false,
  },
  cpu('download', 'client'),
  cpu('download', 'ingress'),
  cpu('download', 'egress'),
  cpu('upload', 'client'),
  cpu('upload', 'ingress'),
  cpu('upload', 'egress'),
];

export const figureById = (id: string): FigureSpec | undefined => FIGURES.find((f) => f.id === id);
