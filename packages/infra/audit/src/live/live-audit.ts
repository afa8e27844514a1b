/**
 * The live mode: an audit of a deployment the auditor does not run. The auditor holds a
 * client, a canary target and the control plane's AUDITOR account, and from those alone:
 *
 *   - captures the client's link (and the canary's, when told where), so nothing in clear
 *     leaves the client and the TLS of every hop it can see is recorded;
 *   - records everything the canary receives (sources, headers, ClientHellos, datagrams,
 *     DNS questions), so the target side is known exactly;
 *   - subscribes to every subject the auditor account can read;
 *   - runs the same scenario as the lab, minus what only an operator can do (rotate keys,
 *     stop an egress).
 *
 * What happens inside the operators' machines (what each relay decrypts, logs, or tells the
 * other over the trunk) is out of sight: those checks say "cannot prove from outside", and
 * the report says why. The harness's own processes are run and cleaned up through a
 * loopback lab (its manifest, exit hooks and sweep), which plays no part in the evidence.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, relative } from 'node:path';
import { issueCert } from '@splitrelay/devcerts';
import { createLab, type Lab, type LabProcess } from '@splitrelay/lab';
import type { Report } from '@splitrelay/evidence';
import { AuditError } from '../audit-error.ts';
import { analyzeRun } from '../analysis/analyze.ts';
import { jsonLines } from '../analysis/loader.ts';
import { generateCanaries } from '../canaries.ts';
import { preloadsFor, type ControlName } from '../controls.ts';
import { DriverClient } from '../driver-client.ts';
import { CLIENT_OBSERVER_PRELOAD, ROLE_PROGRAMS, appMain } from '../paths.ts';
import { exitCodeOf, writeReport, type ReportFiles } from '../report-files.ts';
import {
  RUN_RECORD_VERSION,
  type CaptureRecord,
  type FileRecord,
  type RunRecord,
} from '../run-record.ts';
import { runScenario, type ScenarioName } from '../scenario.ts';
import { startNode, startProgram } from '../lab/lab-processes.ts';
import { liveSettingsSchema, type LiveSettings } from './live-settings.ts';

export { liveSettingsSchema, type LiveSettings };

export interface LiveAuditOptions {
  readonly settings: LiveSettings | unknown;
  readonly evidenceRoot?: string;
  readonly scenario?: ScenarioName;
  /** Leaky builds of the auditor's own client (a control of the live checks). */
  readonly clientControls?: readonly ControlName[];
  readonly rng?: (n: number) => Uint8Array;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
  readonly bulkBytes?: number;
}

export interface LiveOutcome {
  readonly dir: string;
  readonly report: Report;
  readonly files: ReportFiles;
  readonly exitCode: 0 | 1;
  readonly clean: boolean;
}

export const LIVE_LIMITATIONS: readonly string[] = [
  "live mode: what each relay decrypted, parsed, logged and held in its socket tables is inside the operators' machines, so those checks cannot be proven from outside; the harness shows only that nothing leaves the client in clear, what the target and the control plane saw, and the TLS the client can see",
  'the trunk between ingress and egress is not captured: it runs between the operators',
  'collusion between the operators, and correlation of traffic by timing or volume, are not covered by any check',
  "the control plane is seen as the AUDITOR account sees it: messages that cross accounts; each operator's private subjects are not visible",
];

const hostOf = (hostPort: string): string => hostPort.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');

export async function runLiveAudit(options: LiveAuditOptions): Promise<LiveOutcome> {
  const parsed = liveSettingsSchema.safeParse(options.settings);
  if (!parsed.success)
    throw new AuditError('invalid-settings', `live settings: ${parsed.error.message}`);
  const s = parsed.data;
  const log = options.log ?? (() => {});
  const rng = options.rng ?? ((n: number) => Uint8Array.from(randomBytes(n)));
  const now = options.now ?? (() => new Date());
  const lab = await createLab({
    mode: 'loopback',
    ...(options.evidenceRoot ? { evidenceRoot: options.evidenceRoot } : {}),
  });
  const dir = lab.runDir;
  log(`live audit: evidence in ${dir}`);
  try {
    const record = await runLive(lab, s, dir, { ...options, log, rng, now });
    writeFileSync(join(dir, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
    const { report, files } = writeReport(dir, analyzeRun(dir, record, now));
    log(`verdict ${report.verdict}, ${report.summary.redCells} red cells; report ${files.html}`);
    const destroyed = await lab.destroy();
    return { dir, report, files, exitCode: exitCodeOf(report), clean: destroyed.ok };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}

async function runLive(
  lab: Lab,
  s: LiveSettings,
  dir: string,
  options: LiveAuditOptions & {
    log: (l: string) => void;
    rng: (n: number) => Uint8Array;
    now: () => Date;
  },
): Promise<RunRecord> {
  const rel = (abs: string): string => relative(dir, abs);
  const observed = join(dir, 'observed');
  for (const d of ['client', 'control-plane', 'target'])
    mkdirSync(join(observed, d), { recursive: true });
  const started: LabProcess[] = [];
  const logs: FileRecord[] = [];
  const keep = (party: FileRecord['party'], instance: string, proc: LabProcess): LabProcess => {
    started.push(proc);
    logs.push(
      { party, instance, file: rel(proc.stdoutFile) },
      { party, instance, file: rel(proc.stderrFile) },
    );
    return proc;
  };
  const startedAt = options.now().toISOString();
  const v4 = s.canary.listen.find((a) => isIP(a) === 4);
  const v6 = s.canary.listen.find((a) => isIP(a) === 6);
  const canaries = {
    ...generateCanaries({
      rng: options.rng,
      targetV4Candidates: [v4 ?? (s.canary.listen[0] as string)],
      zone: s.canary.zone,
      dnsPort: s.canary.dnsPort,
    }),
    targetV6: v6,
  };
  const tls = await issueCert(
    {
      certPem: readFileSync(s.canary.ca.cert, 'utf8'),
      keyPem: readFileSync(s.canary.ca.key, 'utf8'),
    },
    {
      commonName: canaries.targetName,
      dnsNames: [canaries.targetName],
      ipAddresses: [...s.canary.listen],
      usage: 'server',
      days: 2,
    },
  );
  const cert = join(observed, 'target', 'canary.crt');
  const key = join(observed, 'target', 'canary.key');
  writeFileSync(cert, tls.certPem);
  writeFileSync(key, tls.keyPem, { mode: 0o600 });
  const captureFiles: CaptureRecord[] = [];
  const limitations = [...LIVE_LIMITATIONS];
  const tcpdumps: LabProcess[] = [];
  let driver: DriverClient | undefined;
  try {
    // --- Captures: the client's link, and the canary's when the auditor says where -------
    const capture = async (link: string, iface: string, host: string): Promise<void> => {
      const file = join(dir, 'captures', `${link}.pcap`);
      mkdirSync(join(dir, 'captures'), { recursive: true });
      try {
        const { proc } = await startProgram(
          lab,
          {
            role: link === 'client' ? 'client' : 'target',
            name: `tcpdump-${link}`,
            ready: /listening on/,
            timeoutMs: 8000,
          },
          'tcpdump',
          [
            '-i',
            iface,
            '-w',
            file,
            '-s',
            '262144',
            '-U',
            '--immediate-mode',
            '-n',
            ...(process.getuid?.() === 0 ? ['-Z', 'root'] : []),
            `host ${host}`,
          ],
        );
        tcpdumps.push(proc);
        captureFiles.push({ link, file: rel(file) });
      } catch (err) {
        limitations.push(
          `no capture of the ${link} link: ${(err as Error).message.split('\n')[0]}`,
        );
      }
    };
    await capture('client', s.client.captureInterface, s.client.localAddress);
    if (s.canary.captureInterface)
      await capture('target', s.canary.captureInterface, canaries.targetV4);

    // --- The auditor's seat on the control plane -----------------------------------------
    if (s.controlPlane) {
      const config = join(observed, 'control-plane', 'observer.json');
      writeFileSync(
        config,
        JSON.stringify({ ...s.controlPlane, out: join(observed, 'control-plane') }),
      );
      keep(
        'control-plane',
        'observer',
        (
          await startNode(lab, {
            role: 'nats',
            name: 'auditor-observer',
            script: ROLE_PROGRAMS.controlPlaneObserver,
            args: [config],
            ready: /observer ready/,
          })
        ).proc,
      );
    } else
      limitations.push(
        'no control-plane credentials were given: the control plane was not observed',
      );

    // --- The canary target -----------------------------------------------------------------
    const targetConfig = join(observed, 'target', 'canary.json');
    writeFileSync(
      targetConfig,
      JSON.stringify({
        canaries,
        cert,
        key,
        out: join(observed, 'target'),
        bulkBytes: options.bulkBytes ?? 2 * 1024 * 1024,
      }),
    );
    keep(
      'target',
      'canary-target',
      (
        await startNode(lab, {
          role: 'target',
          name: 'canary-target',
          script: ROLE_PROGRAMS.canaryTarget,
          args: [targetConfig],
          ready: /canary-target ready/,
        })
      ).proc,
    );

    // --- The auditor's client --------------------------------------------------------------
    const clientObserverFile = join(observed, 'client', 'client-observer.jsonl');
    const clientConfig = join(observed, 'client', 'client.json');
    writeFileSync(
      clientConfig,
      JSON.stringify({
        ingress: { ...s.ingress },
        localAddress: s.client.localAddress,
        directory: { operatorKeys: s.directory.operatorKeys, refreshMs: 1000 },
        ...(s.tokens ? { tokens: { ...s.tokens } } : {}),
        socks: { listen: '127.0.0.1:0' },
        http: { listen: '127.0.0.1:0' },
        log: { level: 'info' },
      }),
    );
    const client = await startNode(lab, {
      role: 'client',
      name: 'client',
      script: appMain('client'),
      args: ['--config', clientConfig],
      preloads: [CLIENT_OBSERVER_PRELOAD, ...preloadsFor('client', options.clientControls ?? [])],
      env: { SPLITRELAY_AUDIT_CLIENT_OBSERVER: clientObserverFile },
      ready: /"event":"ready"/,
    });
    keep('client', 'client', client.proc);
    const socksPort = Number(/"socks":"socks5h:\/\/[^"]*:(\d+)"/.exec(client.line)?.[1]);
    const httpPort = Number(/"http":"http:\/\/[^"]*:(\d+)"/.exec(client.line)?.[1]);
    const driverConfig = join(observed, 'client', 'driver.json');
    writeFileSync(
      driverConfig,
      JSON.stringify({
        socksPort,
        httpPort,
        caCert: s.canary.ca.cert,
        headerName: 'x-audit-canary',
        out: join(observed, 'client'),
      }),
    );
    const d = await startNode(lab, {
      role: 'client',
      name: 'traffic-driver',
      script: ROLE_PROGRAMS.trafficDriver,
      args: [driverConfig],
      ready: /driver ready/,
      stdio: 'pipe',
    });
    keep('client', 'traffic-driver', d.proc);
    driver = new DriverClient(d.proc.child.stdin!, d.proc.child.stdout!);
    const issuerHost = s.tokens
      ? new URL(s.tokens.issuer).hostname.replace(/^\[|\]$/g, '')
      : undefined;
    const steps = await runScenario(
      {
        driver,
        canaries,
        bulkBytes: options.bulkBytes ?? 2 * 1024 * 1024,
        driverFile: rel(join(observed, 'client', 'driver.jsonl')),
        tokensIssued: async () =>
          issuerHost !== undefined &&
          jsonLines(
            existsSync(clientObserverFile) ? readFileSync(clientObserverFile, 'utf8') : undefined,
          ).some(
            (l) => l.value.kind === 'tls' && String(l.value.remote).startsWith(`${issuerHost}:`),
          ),
        log: options.log,
      },
      options.scenario ?? 'full',
    );
    driver.close();
    driver = undefined;
    for (const p of [...started].reverse()) await p.stop(3000).catch(() => undefined);
    for (const t of tcpdumps) {
      t.signal('SIGINT');
      await t.exited;
    }
    const endedAt = options.now().toISOString();
    const natsHosts =
      s.controlPlane?.servers.map((u) => new URL(u).hostname.replace(/^\[|\]$/g, '')) ?? [];
    return {
      version: RUN_RECORD_VERSION,
      mode: 'live',
      title: 'live',
      startedAt,
      endedAt,
      canaries,
      addresses: {
        client: [s.client.localAddress],
        ingress: [hostOf(s.ingress.address)],
        egress: { published: [...s.egressAddresses] },
        issuer: issuerHost ? [issuerHost] : [],
        nats: natsHosts,
        target: [...s.canary.listen],
        clientResolver: [],
      },
      ...(s.tokens ? { credential: readFileSync(s.tokens.credentialFile, 'utf8').trim() } : {}),
      captures: captureFiles,
      observations: [],
      logs,
      sockets: [],
      window: { from: startedAt, to: endedAt },
      ...(s.controlPlane
        ? { controlPlane: rel(join(observed, 'control-plane', 'messages.jsonl')) }
        : {}),
      target: rel(join(observed, 'target')),
      clientObserver: rel(clientObserverFile),
      driver: rel(join(observed, 'client', 'driver.jsonl')),
      steps,
      overrides: [],
      limitations,
      controls: [...(options.clientControls ?? [])],
      rotation: s.rotation,
    };
  } finally {
    driver?.close();
    for (const p of [...started].reverse())
      if (p.running) await p.stop(1000).catch(() => undefined);
    for (const t of tcpdumps) if (t.running) await t.stop(2000).catch(() => undefined);
  }
}
