/**
 * One audit run inside a lab, in the order things must exist:
 *
 *   canaries → PKI and directory → captures and socket sampling → NATS → the auditor's
 *   observer → canary target, client-side resolver → egress-1, egress-2 → issuer → ingress
 *   (ready once it knows both egresses and the issuer's key) → client → traffic driver →
 *   scenario → everything stopped in reverse → captures flushed → the run record
 *
 * Every program runs in its own role's namespace, every relay with the observation preload,
 * the client with the client observer, and each with the preloads of the negative controls
 * asked for. Whatever happens, everything this run started is stopped before it returns.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { selfSigned } from '@splitrelay/devcerts';
import { spkiPin } from '@splitrelay/directory';
import type { Capture, Lab, LabProcess, Role } from '@splitrelay/lab';
import { prepareDeployment, type Deployment } from '@splitrelay/local-deployment';
import { SINGLE_CONF, natsServerBinary } from '@splitrelay/nats-kit';
import { AuditError } from '../audit-error.ts';
import { generateCanaries, type Canaries } from '../canaries.ts';
import { CONTROLS, preloadsFor, type ControlName } from '../controls.ts';
import { DriverClient } from '../driver-client.ts';
import { jsonLines } from '../analysis/loader.ts';
import {
  fitEgressConfig,
  fitIngressConfig,
  fitIssuerConfig,
  type Override,
} from '../operator-config.ts';
import { CLIENT_OBSERVER_PRELOAD, ROLE_PROGRAMS, appMain, exampleConfig } from '../paths.ts';
import { RELAY_OBSERVATION } from '../relay-observation.ts';
import {
  RUN_RECORD_VERSION,
  type CaptureRecord,
  type FileRecord,
  type RunRecord,
} from '../run-record.ts';
import { runScenario, type ScenarioName, type StepOutcome } from '../scenario.ts';
import { startNode, startProgram, until } from './lab-processes.ts';

export interface LabRunInput {
  readonly lab: Lab;
  readonly dir: string;
  readonly rng: (n: number) => Uint8Array;
  readonly now: () => Date;
  readonly log: (line: string) => void;
  readonly scenario: ScenarioName;
  readonly controls: readonly ControlName[];
  readonly operatorConfigs: {
    readonly ingress?: string;
    readonly egress?: string;
    readonly issuer?: string;
  };
  readonly bulkBytes: number;
  readonly secondEgress: string;
  readonly reachability?: RunRecord['reachability'];
  /** Target addresses earlier runs in this lab drew: a fresh one is drawn while any is left. */
  readonly usedTargets: Set<string>;
}

const INGRESS_NAME = 'ingress.lab.splitrelay.test';

/** The name the harness itself looks up through the client's resolver, to see it recorded. */
const resolverProbe = (c: Canaries): string => `resolver-probe-${c.tag}.lab.splitrelay.test`;
const DEFAULT_ISSUER_NAME = 'issuer.lab.splitrelay.test';
const CANARY_HEADER = 'x-audit-canary';
const HEARTBEAT_MS = 500;
const ANNOUNCE_MS = 1000;

interface Ports {
  readonly relay: number;
  readonly issuer: number;
  readonly nats: number;
  readonly resolver: number;
  readonly health: { readonly ingress: number; readonly egress: number; readonly issuer: number };
}

/** In namespaces every role owns its ports; on loopback a non-root harness cannot bind below 1024. */
const portsFor = (lab: Lab): Ports =>
  lab.mode === 'netns'
    ? {
        relay: 443,
        issuer: 443,
        nats: 4222,
        resolver: 53,
        health: { ingress: 9001, egress: 9002, issuer: 9003 },
      }
    : {
        relay: 8443,
        issuer: 8444,
        nats: 4222,
        resolver: 5353,
        health: { ingress: 9001, egress: 9002, issuer: 9003 },
      };

// NATS reads a bare value starting with a digit as a number: passwords start with a letter.
const secret = (rng: (n: number) => Uint8Array): string =>
  `pw${Buffer.from(rng(16)).toString('hex')}`;
const readJson = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

/** Ports the egress's policy refuses (denyPorts), so no canary is drawn on one. */
function deniedBy(config: Record<string, unknown>): (port: number) => boolean {
  const policy = (config.policy ?? {}) as { denyPorts?: (number | [number, number])[] };
  const deny = policy.denyPorts ?? [];
  return (port) => deny.some((d) => (Array.isArray(d) ? port >= d[0] && port <= d[1] : port === d));
}

export async function runInLab(input: LabRunInput): Promise<RunRecord> {
  const { lab, dir, rng, now, log } = input;
  const rel = (abs: string): string => relative(dir, abs);
  const ports = portsFor(lab);
  const addr = (role: Role): string => lab.address(role).v4;
  const v6 = (role: Role): string | undefined => lab.address(role).v6;
  const started: LabProcess[] = [];
  const logs: FileRecord[] = [];
  const observations: FileRecord[] = [];
  const limitations: string[] = [
    ...(lab.mode === 'loopback'
      ? [
          "this run's evidence is weaker than a namespaced lab's: the roles shared one network stack on distinct loopback addresses, so nothing kept the ingress from the target or the egress from the client, and what each party could reach was not enforced by the kernel",
        ]
      : []),
    ...lab.limitations,
  ];
  const observed = join(dir, 'observed');
  for (const d of [
    'ingress',
    'egress',
    'issuer',
    'client',
    'control-plane',
    'target',
    'client-resolver',
  ])
    mkdirSync(join(observed, d), { recursive: true });
  const startedAt = now().toISOString();
  const keep = (party: FileRecord['party'], instance: string, proc: LabProcess): LabProcess => {
    started.push(proc);
    logs.push(
      { party, instance, file: rel(proc.stdoutFile) },
      { party, instance, file: rel(proc.stderrFile) },
    );
    return proc;
  };

  // --- Operator settings, canaries, PKI --------------------------------------------------
  const operator = {
    ingress: readJson(input.operatorConfigs.ingress ?? exampleConfig('ingress')),
    egress: readJson(input.operatorConfigs.egress ?? exampleConfig('egress')),
    issuer: readJson(input.operatorConfigs.issuer ?? exampleConfig('issuer')),
  };
  const targetAddress = lab.address('target');
  const candidates =
    lab.mode === 'netns'
      ? Array.from({ length: 12 }, (_, i) => `203.0.113.${i + 3}`)
      : // Last octets 80–92 and 94–99: no role address (.1–.7) is a text prefix of them. The
        // search finds text inside base64 without the boundaries it keeps in plain text, so
        // 127.x.y.1 would be "found" in the base64 of 127.x.y.19.
        Array.from({ length: 20 }, (_, i) =>
          targetAddress.v4.replace(/\.\d+$/, `.${i + 80}`),
        ).filter((a) => !a.endsWith('.93'));
  const fresh = candidates.filter((a) => !input.usedTargets.has(a));
  const canaries: Canaries = generateCanaries({
    rng,
    targetV4Candidates: fresh.length > 0 ? fresh : candidates,
    ...(targetAddress.v6 ? { targetV6Prefix: targetAddress.v6.replace(/::2$/, ':') } : {}),
    avoidPorts: deniedBy(operator.egress),
  });
  log(
    `canaries: ${canaries.targetName} at ${canaries.targetV4}${canaries.targetV6 ? `, ${canaries.targetV6}` : ''}`,
  );
  if (lab.mode === 'netns') {
    const ifname = lab.links().find((l) => l.role === 'target')?.roleEnd.ifname as string;
    for (const args of [
      ['addr', 'add', `${canaries.targetV4}/28`, 'dev', ifname],
      ...(canaries.targetV6
        ? [['-6', 'addr', 'add', `${canaries.targetV6}/64`, 'dev', ifname, 'nodad']]
        : []),
    ]) {
      const r = await lab.exec('target', 'ip', args);
      if (r.code !== 0 && !/exists|already assigned/i.test(r.stderr))
        throw new AuditError('start-failed', `ip ${args.join(' ')}: ${r.stderr}`);
    }
  }
  const egressHosts = { 'egress-1': addr('egress'), 'egress-2': input.secondEgress } as const;
  const issuerName =
    typeof operator.issuer.issuerName === 'string'
      ? operator.issuer.issuerName
      : DEFAULT_ISSUER_NAME;
  const deployment: Deployment = await prepareDeployment({
    dir: join(dir, 'deployment'),
    ingressHost: addr('ingress'),
    ingressName: INGRESS_NAME,
    egresses: Object.entries(egressHosts).map(([id, host]) => ({
      id,
      host,
      port: ports.relay,
      region: 'lab',
    })),
    targetHosts: [canaries.targetV4, ...(canaries.targetV6 ? [canaries.targetV6] : [])],
    targetName: canaries.targetName,
    issuer: { host: addr('issuer'), name: issuerName },
  });
  const issuerMaterial = deployment.issuer!;
  const passwords = {
    ingress: secret(rng),
    egress: secret(rng),
    auditor: secret(rng),
    sys: secret(rng),
    issuer: secret(rng),
  };
  const natsUrl = `nats://${addr('nats')}:${ports.nats}`;
  const overrides: Override[] = [];

  let capture: Capture | undefined;
  let sampler: { stop(): Promise<void> } | undefined;
  let driver: DriverClient | undefined;
  const procs: Partial<Record<string, LabProcess>> = {};
  try {
    // --- Captures and socket tables first: the first handshake must be in them ------------
    try {
      capture = await lab.capture('all', { bufferKiB: 32 * 1024 });
    } catch (err) {
      limitations.push(`no packet captures in this run: ${(err as Error).message}`);
    }
    sampler = lab.startSocketSampling({
      intervalMs: 500,
      roles: ['ingress', 'egress', 'issuer', 'client'],
    });

    // --- Control plane and the auditor's seat on it --------------------------------------
    keep(
      'control-plane',
      'nats',
      (
        await startProgram(
          lab,
          {
            role: 'nats',
            name: 'nats-server',
            ready: /Server is ready/,
            env: {
              SPLITRELAY_NATS_INGRESS_PASSWORD: passwords.ingress,
              SPLITRELAY_NATS_EGRESS_PASSWORD: passwords.egress,
              SPLITRELAY_NATS_AUDITOR_PASSWORD: passwords.auditor,
              SPLITRELAY_NATS_SYS_PASSWORD: passwords.sys,
              SPLITRELAY_NATS_ISSUER_PASSWORD: passwords.issuer,
              SPLITRELAY_NATS_SERVER_NAME: 'lab-nats',
              SPLITRELAY_NATS_LISTEN: `${addr('nats')}:${ports.nats}`,
              SPLITRELAY_NATS_STORE_DIR: join(dir, 'nats-store'),
            },
          },
          natsServerBinary(),
          ['-c', SINGLE_CONF],
        )
      ).proc,
    );
    const observerConfig = join(observed, 'control-plane', 'observer.json');
    writeFileSync(
      observerConfig,
      JSON.stringify({
        servers: [natsUrl],
        user: 'auditor',
        password: passwords.auditor,
        out: join(observed, 'control-plane'),
      }),
    );
    keep(
      'control-plane',
      'observer',
      (
        await startNode(lab, {
          role: 'nats',
          name: 'auditor-observer',
          script: ROLE_PROGRAMS.controlPlaneObserver,
          args: [observerConfig],
          ready: /observer ready/,
        })
      ).proc,
    );

    // --- The canary target and the client-side resolver ----------------------------------
    const targetConfig = join(observed, 'target', 'canary.json');
    writeFileSync(
      targetConfig,
      JSON.stringify({
        canaries,
        cert: deployment.target.cert,
        key: deployment.target.key,
        out: join(observed, 'target'),
        bulkBytes: input.bulkBytes,
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
    const resolverConfig = join(observed, 'client-resolver', 'resolver.json');
    writeFileSync(
      resolverConfig,
      JSON.stringify({
        hosts: [addr('dns'), ...(v6('dns') ? [v6('dns') as string] : [])],
        port: ports.resolver,
        out: join(observed, 'client-resolver'),
      }),
    );
    keep(
      'client-resolver',
      'resolver',
      (
        await startNode(lab, {
          role: 'dns',
          name: 'client-resolver',
          script: ROLE_PROGRAMS.clientResolver,
          args: [resolverConfig],
          ready: /client-resolver ready/,
        })
      ).proc,
    );
    // A positive control for the resolver's record: one lookup of a name that is no canary,
    // through the client's own resolv.conf, must be in it (else "saw no target" means nothing).
    if (lab.mode === 'netns')
      await lab.exec('client', 'getent', ['hosts', resolverProbe(canaries)], { timeoutMs: 5000 });
    if (lab.mode !== 'netns')
      limitations.push(
        "the client's resolver is the host's, not the lab's recorder: the DNS check rests on the client process's own lookups and DNS on the client link",
      );

    // --- Egresses ----------------------------------------------------------------------
    const allowCidrs =
      lab.mode === 'netns' ? ['203.0.113.0/28', '2001:db8:0:6::/64'] : [`${canaries.targetV4}/32`];
    const relayObservation = (instance: string, party: FileRecord['party']) => {
      const file = join(observed, party, `${instance}.observed.bin`);
      observations.push({ party, instance, file: rel(file) });
      return { [RELAY_OBSERVATION.env]: file };
    };
    for (const [id, host] of Object.entries(egressHosts)) {
      const fitted = fitEgressConfig(operator.egress, {
        egressId: id,
        listen: `${host}:${ports.relay}`,
        tls: deployment.egress[id]!,
        ingressTrunkCert: deployment.ingress.trunkCert,
        localAddress: host,
        controlPlane: {
          servers: [natsUrl],
          user: 'egress',
          password: passwords.egress,
          heartbeatMs: HEARTBEAT_MS,
          entryFile: deployment.directoryFile,
          announceMs: ANNOUNCE_MS,
        },
        health: `${host}:${ports.health.egress}`,
        allowCidrs,
        canaryPorts: [canaries.httpsPort, canaries.udpPort, canaries.dnsPort],
        dnsServer: `${canaries.targetV4}:${canaries.dnsPort}`,
      });
      if (id === 'egress-1') overrides.push(...fitted.overrides);
      const file = await deployment.writeConfig(id, fitted.config);
      procs[id] = keep(
        'egress',
        id,
        (
          await startNode(lab, {
            role: 'egress',
            name: id,
            script: appMain('egress'),
            args: ['--config', file],
            preloads: [RELAY_OBSERVATION.preload, ...preloadsFor('egress', input.controls)],
            env: relayObservation(id, 'egress'),
            ready: /"event":"ready"/,
          })
        ).proc,
      );
    }

    // --- Issuer --------------------------------------------------------------------------
    const issuerFitted = fitIssuerConfig(operator.issuer, {
      listen: `${addr('issuer')}:${ports.issuer}`,
      tls: { cert: issuerMaterial.cert, key: issuerMaterial.key },
      issuerName,
      keys: [{ privateKey: issuerMaterial.privateKey, ...issuerMaterial.keyWindow }],
      subscribersFile: issuerMaterial.subscribersFile,
      controlPlane: {
        servers: [natsUrl],
        user: 'issuer',
        password: passwords.issuer,
        issuerId: 'lab-issuer',
        announceMs: ANNOUNCE_MS,
      },
      health: `${addr('issuer')}:${ports.health.issuer}`,
    });
    overrides.push(...issuerFitted.overrides);
    procs.issuer = keep(
      'issuer',
      'issuer',
      (
        await startNode(lab, {
          role: 'issuer',
          name: 'issuer',
          script: appMain('issuer'),
          args: ['--config', await deployment.writeConfig('issuer', issuerFitted.config)],
          preloads: [RELAY_OBSERVATION.preload, ...preloadsFor('issuer', input.controls)],
          env: relayObservation('issuer', 'issuer'),
          ready: /"event":"ready"/,
        })
      ).proc,
    );

    // --- Ingress -------------------------------------------------------------------------
    const pp = (operator.ingress.admission as { privacyPass?: { origin?: unknown } } | undefined)
      ?.privacyPass;
    const ingressFitted = fitIngressConfig(operator.ingress, {
      listen: `${addr('ingress')}:${ports.relay}`,
      tls: { cert: deployment.ingress.cert, key: deployment.ingress.key },
      trunk: {
        cert: deployment.ingress.trunkCert,
        key: deployment.ingress.trunkKey,
        localAddress: addr('ingress'),
      },
      operatorPublicKey: deployment.operatorPublicKey,
      controlPlane: {
        servers: [natsUrl],
        user: 'ingress',
        password: passwords.ingress,
        ingressId: 'lab-ingress',
        heartbeatMs: HEARTBEAT_MS,
      },
      health: `${addr('ingress')}:${ports.health.ingress}`,
      privacyPass: {
        issuerName,
        origin: typeof pp?.origin === 'string' ? pp.origin : INGRESS_NAME,
      },
    });
    overrides.push(...ingressFitted.overrides);
    procs.ingress = keep(
      'ingress',
      'ingress',
      (
        await startNode(lab, {
          role: 'ingress',
          name: 'ingress',
          script: appMain('ingress'),
          args: ['--config', await deployment.writeConfig('ingress', ingressFitted.config)],
          preloads: [RELAY_OBSERVATION.preload, ...preloadsFor('ingress', input.controls)],
          env: relayObservation('ingress', 'ingress'),
          ready: /"event":"ready"/,
        })
      ).proc,
    );
    const healthUrl = `http://${addr('ingress')}:${ports.health.ingress}/health`;
    await until('the ingress to know both egresses and the issuer key', async () => {
      const r = await lab.exec('ingress', 'curl', ['--silent', '--max-time', '2', healthUrl], {
        timeoutMs: 3000,
      });
      const h = JSON.parse(r.stdout || '{}') as {
        egresses?: Record<string, string>;
        tokenKeys?: unknown[];
      };
      return (
        h.egresses?.['egress-1'] === 'up' &&
        h.egresses?.['egress-2'] === 'up' &&
        (h.tokenKeys?.length ?? 0) > 0
      );
    });

    // --- The auditor's client and its driver ----------------------------------------------
    const clientObserverFile = join(observed, 'client', 'client-observer.jsonl');
    const clientConfig = await deployment.writeConfig('client', {
      ingress: {
        address: `${addr('ingress')}:${ports.relay}`,
        servername: INGRESS_NAME,
        ca: deployment.caCert,
      },
      localAddress: addr('client'),
      directory: { operatorKeys: [{ publicKey: deployment.operatorPublicKey }], refreshMs: 1000 },
      tokens: {
        issuer: `https://${addr('issuer')}:${ports.issuer}`,
        ca: deployment.caCert,
        servername: issuerName,
        credentialFile: issuerMaterial.credentialFile,
      },
      socks: { listen: '127.0.0.1:0' },
      http: { listen: '127.0.0.1:0' },
      log: { level: 'info' },
    });
    const client = await startNode(lab, {
      role: 'client',
      name: 'client',
      script: appMain('client'),
      args: ['--config', clientConfig],
      preloads: [CLIENT_OBSERVER_PRELOAD, ...preloadsFor('client', input.controls)],
      env: { SPLITRELAY_AUDIT_CLIENT_OBSERVER: clientObserverFile },
      ready: /"event":"ready"/,
    });
    procs.client = keep('client', 'client', client.proc);
    const socksPort = Number(/"socks":"socks5h:\/\/[^"]*:(\d+)"/.exec(client.line)?.[1]);
    const httpPort = Number(/"http":"http:\/\/[^"]*:(\d+)"/.exec(client.line)?.[1]);
    const driverConfig = join(observed, 'client', 'driver.json');
    writeFileSync(
      driverConfig,
      JSON.stringify({
        socksPort,
        httpPort,
        caCert: deployment.caCert,
        headerName: CANARY_HEADER,
        out: join(observed, 'client'),
      }),
    );
    const driverRun = await startNode(lab, {
      role: 'client',
      name: 'traffic-driver',
      script: ROLE_PROGRAMS.trafficDriver,
      args: [driverConfig],
      ready: /driver ready/,
      stdio: 'pipe',
    });
    procs.driver = keep('client', 'traffic-driver', driverRun.proc);
    driver = new DriverClient(driverRun.proc.child.stdin!, driverRun.proc.child.stdout!);

    // --- The scenario -------------------------------------------------------------------
    const steps = await runScenario(
      {
        driver,
        canaries,
        bulkBytes: input.bulkBytes,
        driverFile: rel(join(observed, 'client', 'driver.jsonl')),
        tokensIssued: async () =>
          jsonLines(
            existsSync(clientObserverFile) ? readFileSync(clientObserverFile, 'utf8') : undefined,
          ).some(
            (l) =>
              l.value.kind === 'tls' && String(l.value.remote).startsWith(`${addr('issuer')}:`),
          ),
        rotateEgressKey: () =>
          rotateEgressKey(
            deployment,
            egressHosts,
            ports.relay,
            procs['egress-1']!,
            join(observed, 'control-plane', 'messages.jsonl'),
          ),
        failover: {
          stop: async () => {
            await procs['egress-1']!.stop();
          },
          survivorAddress: egressHosts['egress-2'],
        },
        log,
      },
      input.scenario,
    );

    // --- Stop in reverse, flush captures --------------------------------------------------
    await stopAll(started, driver);
    driver = undefined;
    const stats = capture ? await capture.stop() : [];
    capture = undefined;
    await sampler.stop();
    sampler = undefined;
    const endedAt = now().toISOString();

    const captures: CaptureRecord[] = stats.map((s) => ({
      link: s.link,
      file: rel(s.file),
      ...(s.packetsCaptured === undefined ? {} : { packets: s.packetsCaptured }),
    }));
    for (const s of stats)
      if ((s.packetsDroppedByKernel ?? 0) > 0)
        limitations.push(
          `the ${s.link} capture lost ${s.packetsDroppedByKernel} packets in the kernel`,
        );
    const sockets = copySocketWindow(
      lab.runDir,
      dir,
      ['ingress', 'egress', 'issuer', 'client'],
      startedAt,
      endedAt,
    );
    for (const o of observations)
      if (!existsSync(join(dir, o.file)))
        limitations.push(`${o.instance} wrote no observation file (did it crash?)`);
    return {
      version: RUN_RECORD_VERSION,
      mode: 'lab',
      labMode: lab.mode,
      title: 'lab',
      startedAt,
      endedAt,
      canaries,
      addresses: {
        client: [addr('client'), ...(v6('client') ? [v6('client') as string] : [])],
        ingress: [addr('ingress'), ...(v6('ingress') ? [v6('ingress') as string] : [])],
        egress: {
          'egress-1': [egressHosts['egress-1'], ...(v6('egress') ? [v6('egress') as string] : [])],
          'egress-2': [egressHosts['egress-2']],
        },
        issuer: [addr('issuer'), ...(v6('issuer') ? [v6('issuer') as string] : [])],
        nats: [addr('nats'), ...(v6('nats') ? [v6('nats') as string] : [])],
        target: [canaries.targetV4, ...(canaries.targetV6 ? [canaries.targetV6] : [])],
        clientResolver: [addr('dns'), ...(v6('dns') ? [v6('dns') as string] : [])],
      },
      credential: issuerMaterial.credential,
      captures,
      observations,
      logs,
      sockets,
      window: { from: startedAt, to: endedAt },
      controlPlane: rel(join(observed, 'control-plane', 'messages.jsonl')),
      clientResolver: rel(join(observed, 'client-resolver', 'queries.jsonl')),
      target: rel(join(observed, 'target')),
      clientObserver: rel(clientObserverFile),
      driver: rel(join(observed, 'client', 'driver.jsonl')),
      steps,
      overrides,
      limitations,
      controls: [...input.controls],
      ...(lab.mode === 'netns' ? { resolverProbe: resolverProbe(canaries) } : {}),
      rotation: {
        promised: false,
        why: 'the egress config has no source-address pool (each egress has one localAddress), so the deployment promises no rotation',
      },
      ...(input.reachability ? { reachability: input.reachability } : {}),
    };
  } finally {
    // Also when something failed: a shared lab's next run must start from nothing.
    await stopAll(started, driver);
    await capture?.stop().catch(() => undefined);
    await sampler?.stop().catch(() => undefined);
    for (const c of input.controls) log(`control ${c}: ${CONTROLS[c].description}`);
  }
}

/** The processes of this run, last started first; the driver's stdin closed first. */
async function stopAll(started: LabProcess[], driver: DriverClient | undefined): Promise<void> {
  driver?.close();
  for (const p of [...started].reverse()) if (p.running) await p.stop(3000).catch(() => undefined);
}

/** The socket samples of this run's window, copied into its evidence folder (a lab may hold several runs). */
function copySocketWindow(
  labDir: string,
  dir: string,
  roles: readonly Role[],
  from: string,
  to: string,
): FileRecord[] {
  const out: FileRecord[] = [];
  mkdirSync(join(dir, 'sockets'), { recursive: true });
  for (const role of roles) {
    const src = join(labDir, 'sockets', `${role}.jsonl`);
    if (!existsSync(src)) continue;
    const lines = readFileSync(src, 'utf8')
      .split('\n')
      .filter((l) => {
        const at = /"at":"([^"]+)"/.exec(l)?.[1];
        return at !== undefined && at >= from && at <= to;
      });
    const file = join(dir, 'sockets', `${role}.jsonl`);
    if (src === file) {
      out.push({
        party: role === 'client' ? 'client' : (role as FileRecord['party']),
        instance: role,
        file: relative(dir, file),
      });
      continue;
    }
    writeFileSync(file, lines.length > 0 ? `${lines.join('\n')}\n` : '');
    out.push({
      party: role === 'client' ? 'client' : (role as FileRecord['party']),
      instance: role,
      file: relative(dir, file),
    });
  }
  return out;
}

/**
 * The serving egress's TLS key rotated as an operator does it: an entry pinning both keys,
 * the egress switched to the new key (SIGHUP), then an entry pinning only the new key. Each
 * entry is awaited on the control plane (as the auditor sees it) before the next step.
 */
async function rotateEgressKey(
  deployment: Deployment,
  hosts: Readonly<Record<string, string>>,
  port: number,
  egress: LabProcess,
  messagesFile: string,
): Promise<StepOutcome> {
  const paths = deployment.egress['egress-1']!;
  const pin = (file: string): string => spkiPin(readFileSync(file, 'utf8'));
  const oldPin = pin(paths.cert);
  const otherPin = pin(deployment.egress['egress-2']!.cert);
  const next = await selfSigned({
    commonName: 'egress-1',
    dnsNames: ['egress-1'],
    ipAddresses: [hosts['egress-1'] as string],
    usage: 'server',
  });
  const newPin = spkiPin(next.certPem);
  const base = Math.floor(Date.now() / 1000);
  const sign = (pins: string[], version: number) =>
    deployment.signDirectory([
      {
        id: 'egress-1',
        endpoint: `${hosts['egress-1']}:${port}`,
        region: 'lab',
        tlsPins: pins,
        notBefore: base - 60,
        notAfter: base + 3600,
        version,
      },
      {
        id: 'egress-2',
        endpoint: `${hosts['egress-2']}:${port}`,
        region: 'lab',
        tlsPins: [otherPin],
        notBefore: base - 60,
        notAfter: base + 3600,
        version: base + 10,
      },
    ]);
  const announced = (version: number) =>
    until(`directory version ${version} on the control plane`, async () =>
      jsonLines(existsSync(messagesFile) ? readFileSync(messagesFile, 'utf8') : undefined).some(
        (l) => {
          if (l.value.subject !== 'splitrelay.directory.entry.egress-1') return false;
          try {
            const signed = JSON.parse(String(l.value.text)) as { payload: string };
            return (
              (
                JSON.parse(Buffer.from(signed.payload, 'base64url').toString()) as {
                  version: number;
                }
              ).version === version
            );
          } catch {
            return false;
          }
        },
      ),
    );
  await sign([oldPin, newPin], base + 10);
  await announced(base + 10);
  // The ingress has the entry once the auditor does (same subject); give it a moment to apply.
  await new Promise((r) => setTimeout(r, 500));
  writeFileSync(paths.cert, next.certPem);
  writeFileSync(paths.key, next.keyPem);
  egress.signal('SIGHUP');
  await egress.waitForOutput(/tls identity reloaded/, { timeoutMs: 10_000 });
  await sign([newPin], base + 11);
  await announced(base + 11);
  copyFileSync(deployment.directoryFile, `${deployment.directoryFile}.after-rotation`);
  return {
    ok: true,
    detail: `egress-1's key rotated: pins ${oldPin.slice(0, 8)}… → both → ${newPin.slice(0, 8)}…, announced as versions ${base + 10} and ${base + 11}`,
  };
}
