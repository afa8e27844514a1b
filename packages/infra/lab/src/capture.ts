/**
 * Packet captures, one tcpdump per link end, each writing a pcap into <run>/captures/.
 *
 *   tcpdump -i <if> -w <file> -s 262144 -U --immediate-mode -n [-Z root] [filter]
 *
 * -s 262144 keeps whole packets, including the 64 KiB segments a veth passes when offloads
 * leave them unsplit. --immediate-mode hands each packet over as it arrives instead of in
 * buffer blocks, and -U writes it to the file at once, so a capture that ends abruptly has still
 * written everything it saw. -Z root stops tcpdump from dropping to its own user, which could
 * not write into a root-owned run folder. The output is classic libpcap (microsecond
 * timestamps); a veth or lo capture has link type EN10MB (Ethernet).
 *
 * A capture counts as started only once tcpdump prints "listening on", i.e. its socket is
 * bound and filtering: traffic sent before that line may be missed, traffic after it is not.
 * Stopping sends SIGINT (tcpdump writes its remaining packets and its statistics) and falls back
 * to SIGKILL after a bound.
 */
import { createInterface } from 'node:readline';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from './lab-error.ts';
import type { ProcessTable, ProcessExit } from './processes.ts';
import type { Role } from './roles.ts';

export type LinkEndName = 'router' | 'role' | 'lo';

/** Where one tcpdump listens. */
export interface CaptureTarget {
  readonly link: Role;
  readonly end: LinkEndName;
  /** Which namespace runs tcpdump (the role's, the router's; "host" on loopback). */
  readonly runsIn: Role | 'router';
  readonly iface: string;
  /** A pcap-filter expression, e.g. "host 127.100.3.1" on a shared lo. */
  readonly filter?: string;
}

export interface CaptureFile extends CaptureTarget {
  readonly file: string;
}

export interface CaptureStats {
  readonly link: Role;
  readonly end: LinkEndName;
  readonly file: string;
  readonly packetsCaptured: number | undefined;
  readonly packetsReceivedByFilter: number | undefined;
  readonly packetsDroppedByKernel: number | undefined;
  readonly exit: ProcessExit;
}

export interface Capture {
  readonly files: readonly CaptureFile[];
  /** Stops every tcpdump of this capture and returns what each counted. */
  stop(): Promise<CaptureStats[]>;
}

export const SNAPLEN = 262144;
const STOP_TIMEOUT_MS = 5_000;

export interface CaptureOptions {
  /** ANDed with the target's own filter. */
  readonly filter?: string;
  readonly readyTimeoutMs?: number;
  /**
   * The kernel's capture buffer per tcpdump, KiB (`-B`); tcpdump's default (2 MiB) drops
   * packets of a fast bulk transfer on a busy machine.
   */
  readonly bufferKiB?: number;
}

export async function startCapture(
  table: ProcessTable,
  runDir: string,
  targets: readonly CaptureTarget[],
  tcpdump: string,
  options: CaptureOptions = {},
): Promise<Capture> {
  const dir = join(runDir, 'captures');
  mkdirSync(dir, { recursive: true });
  // File names are chosen before any tcpdump starts, so parallel starts cannot pick the same.
  const files = targets.map((t) => pcapName(dir, t));
  const attempts = await Promise.allSettled(
    targets.map((target, i) => startOne(table, files[i]!, target, tcpdump, options)),
  );
  const started = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  const failed = attempts.find((a) => a.status === 'rejected');
  if (failed) {
    await Promise.allSettled(started.map((s) => s.stop()));
    throw failed.reason;
  }
  let stopping: Promise<CaptureStats[]> | undefined;
  return {
    files: started.map((s) => s.file),
    stop: () => (stopping ??= Promise.all(started.map((s) => s.stop()))),
  };
}

/** <link>.<end>.pcap; a second capture of the same link end in one run gets a numbered file. */
function pcapName(dir: string, target: CaptureTarget): string {
  let file = join(dir, `${target.link}.${target.end}.pcap`);
  for (let n = 2; existsSync(file); n++) file = join(dir, `${target.link}.${target.end}.${n}.pcap`);
  return file;
}

async function startOne(
  table: ProcessTable,
  file: string,
  target: CaptureTarget,
  tcpdump: string,
  options: CaptureOptions,
): Promise<{ file: CaptureFile; stop: () => Promise<CaptureStats> }> {
  const filter = [target.filter, options.filter]
    .filter(Boolean)
    .map((f) => `(${f})`)
    .join(' and ');
  const args = [
    '-i',
    target.iface,
    '-w',
    file,
    '-s',
    String(SNAPLEN),
    '-U',
    '--immediate-mode',
    '-n',
  ];
  if (process.getuid?.() === 0) args.push('-Z', 'root');
  if (options.bufferKiB !== undefined) args.push('-B', String(options.bufferKiB));
  if (filter) args.push(filter);
  const proc = table.spawn(target.runsIn, tcpdump, args, {
    name: target.runsIn === target.link ? 'tcpdump' : `tcpdump-${target.link}`,
    stderr: 'pipe',
  });
  const stderrLines: string[] = [];
  const lines = createInterface({ input: proc.child.stderr! });
  const stderrDone = new Promise((resolve) => lines.once('close', resolve));
  const listening = new Promise<void>((resolve, reject) => {
    const timeoutMs = options.readyTimeoutMs ?? 5_000;
    const timer = setTimeout(
      () =>
        reject(
          new LabError(
            'capture-failed',
            `tcpdump on ${target.iface} did not start listening within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    lines.on('line', (line) => {
      stderrLines.push(line);
      if (/listening on /.test(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void proc.exited.then((exit) => {
      clearTimeout(timer);
      reject(
        new LabError(
          'capture-failed',
          `tcpdump on ${target.iface} exited (${exit.code ?? exit.signal}): ${stderrLines.slice(-3).join(' / ')}`,
        ),
      );
    });
  });
  try {
    await listening;
  } catch (err) {
    await proc.stop(0);
    throw err;
  }
  const stop = async (): Promise<CaptureStats> => {
    proc.signal('SIGINT');
    const timer = setTimeout(() => proc.signal('SIGKILL'), STOP_TIMEOUT_MS);
    const exit = await proc.exited;
    clearTimeout(timer);
    // The statistics lines may arrive after the exit event.
    await stderrDone;
    const text = stderrLines.join('\n');
    const count = (what: string): number | undefined => {
      const m = new RegExp(`(\\d+) packets? ${what}`).exec(text);
      return m ? Number(m[1]) : undefined;
    };
    return {
      link: target.link,
      end: target.end,
      file,
      packetsCaptured: count('captured'),
      packetsReceivedByFilter: count('received by filter'),
      packetsDroppedByKernel: count('dropped by kernel'),
      exit,
    };
  };
  return { file: { ...target, file }, stop };
}
