/**
 * The traffic of an audit run, step by step, driven from the client's side:
 *
 *   https-pages        GET (with a canary header) and POST (canary body) through SOCKS5, GET
 *                      through the HTTP proxy: the page carries a canary only the target knows
 *   bulk               a download of several MiB (TCP), every 16 KiB marked with a canary
 *   udp-echo           a canary datagram to the UDP echo, by name and by address
 *   dns-through-relays a DNS question for a canary name to the canary's DNS server (UDP)
 *   privacy-pass       tokens issued to the client and redeemed at the ingress (every session)
 *   key-rotation       the egress's TLS key rotated while a steady loop of requests runs
 *   egress-failover    the serving egress stopped; traffic must continue through the other
 *   ohttp              Oblivious HTTP, when the deployment has it (a hook for now)
 *
 * The lab can rotate and stop egresses; a live audit cannot (those steps are skipped there).
 * 'quick' (used by the negative controls) keeps the steps every check needs and skips the
 * slow ones.
 */
import type { Canaries } from './canaries.ts';
import type { DriverAnswer, DriverClient } from './driver-client.ts';
import type { StepRecord } from './run-record.ts';

export type ScenarioName = 'full' | 'quick';

export interface StepOutcome {
  readonly ok: boolean | 'skipped';
  readonly detail: string;
}

export interface ScenarioContext {
  readonly driver: DriverClient;
  readonly canaries: Canaries;
  readonly bulkBytes: number;
  /** The driver's record (for the steps' evidence), relative to the evidence folder. */
  readonly driverFile: string;
  /** Whether the client fetched tokens from the issuer (read after the first sessions). */
  readonly tokensIssued: () => Promise<boolean>;
  /** Lab only: rotate the serving egress's TLS key, announced through the directory. */
  readonly rotateEgressKey?: () => Promise<StepOutcome>;
  /** Lab only: stop an egress; and the address the target sees from the other one. */
  readonly failover?: { readonly stop: () => Promise<void>; readonly survivorAddress: string };
  /** When the deployment offers Oblivious HTTP: a request through its relay and gateway. */
  readonly ohttp?: () => Promise<StepOutcome>;
  readonly log: (line: string) => void;
}

const errors = (answers: readonly DriverAnswer[]): string =>
  answers
    .filter((a) => a.ok !== true)
    .map((a) => `${String(a.op)}: ${String(a.error ?? `HTTP ${String(a.status)}`)}`)
    .join('; ');

export async function runScenario(ctx: ScenarioContext, name: ScenarioName): Promise<StepRecord[]> {
  const c = ctx.canaries;
  const url = (path: string): string => `https://${c.targetName}:${c.httpsPort}${path}`;
  const steps: StepRecord[] = [];
  const step = async (id: string, run: () => Promise<StepOutcome>): Promise<StepOutcome> => {
    const startedAt = new Date().toISOString();
    let outcome: StepOutcome;
    try {
      outcome = await run();
    } catch (err) {
      outcome = { ok: false, detail: (err as Error).message };
    }
    ctx.log(
      `step ${id}: ${outcome.ok === 'skipped' ? 'skipped' : outcome.ok ? 'ok' : 'FAILED'} (${outcome.detail})`,
    );
    steps.push({
      step: id,
      outcome: outcome.ok === 'skipped' ? 'skipped' : outcome.ok ? 'ok' : 'failed',
      detail: outcome.detail,
      startedAt,
      endedAt: new Date().toISOString(),
      evidence: [{ file: ctx.driverFile, note: "the client's record of this step" }],
    });
    return outcome;
  };
  const skip = (why: string) => async (): Promise<StepOutcome> => ({ ok: 'skipped', detail: why });

  await step('https-pages', async () => {
    const answers = [
      await ctx.driver.send({
        op: 'https',
        via: 'socks',
        url: url(c.path),
        header: c.headerValue,
        keepBody: true,
      }),
      await ctx.driver.send({
        op: 'https',
        via: 'socks',
        url: url(c.path),
        method: 'POST',
        body: c.postBody,
        keepBody: true,
      }),
      await ctx.driver.send({
        op: 'https',
        via: 'http',
        url: url(c.path),
        header: c.headerValue,
        keepBody: true,
      }),
    ];
    const pages = answers.filter((a) => a.ok === true && String(a.body ?? '').includes(c.page));
    return {
      ok: pages.length === answers.length,
      detail:
        pages.length === answers.length
          ? `${pages.length} pages through SOCKS5 and the HTTP proxy, served to ${[...new Set(answers.map((a) => String(a.seenPeer)))].join(', ')}`
          : errors(answers) || 'a page came back without its canary',
    };
  });
  await step(
    'bulk',
    name === 'quick'
      ? skip('not in the quick scenario')
      : async () => {
          const a = await ctx.driver.send(
            { op: 'https', via: 'socks', url: url('/bulk') },
            120_000,
          );
          const ok = a.ok === true && a.bytes === ctx.bulkBytes;
          return {
            ok,
            detail: ok
              ? `${ctx.bulkBytes} bytes in ${String(a.ms)} ms`
              : errors([a]) || `got ${String(a.bytes)} bytes`,
          };
        },
  );
  await step('udp-echo', async () => {
    const answers = [
      await ctx.driver.send({
        op: 'udp',
        host: c.targetName,
        port: c.udpPort,
        payload: c.udpPayload,
      }),
      await ctx.driver.send({
        op: 'udp',
        host: c.targetV4,
        port: c.udpPort,
        payload: c.udpPayload,
      }),
    ];
    const ok = answers.every((a) => a.ok === true);
    return { ok, detail: ok ? 'echoed by name and by address' : errors(answers) };
  });
  await step('dns-through-relays', async () => {
    const a = await ctx.driver.send({
      op: 'dns',
      host: c.targetName,
      port: c.dnsPort,
      name: c.dnsQuestion,
    });
    return {
      ok: a.ok === true,
      detail: a.ok === true ? `answered ${JSON.stringify(a.addresses)}` : errors([a]),
    };
  });
  await step('privacy-pass', async () => {
    const issued = await ctx.tokensIssued();
    const pagesOk = steps[0]?.outcome === 'ok';
    return {
      ok: issued && pagesOk,
      detail: issued
        ? 'the client fetched tokens from the issuer; the ingress admitted its sessions (one token each)'
        : 'the client never reached the issuer',
    };
  });

  const steady =
    name === 'full' && (ctx.rotateEgressKey !== undefined || ctx.failover !== undefined);
  if (steady)
    await ctx.driver.send({ op: 'loop-start', url: url(`${c.path}-steady`), intervalMs: 250 });
  await step(
    'key-rotation',
    name === 'quick'
      ? skip('not in the quick scenario')
      : (ctx.rotateEgressKey ??
          skip('the auditor does not operate this deployment: it cannot rotate its keys')),
  );
  await step(
    'egress-failover',
    name === 'quick'
      ? skip('not in the quick scenario')
      : ctx.failover === undefined
        ? skip('the auditor does not operate this deployment: it cannot stop an egress')
        : async () => {
            const f = ctx.failover!;
            await f.stop();
            const moved = await ctx.driver.send(
              {
                op: 'await-peer',
                url: url(`${c.path}-failover`),
                address: f.survivorAddress,
                timeoutMs: 30_000,
              },
              40_000,
            );
            const after = await ctx.driver.send({
              op: 'https',
              via: 'http',
              url: url(c.path),
              keepBody: true,
            });
            const ok = moved.ok === true && after.ok === true;
            return {
              ok,
              detail: ok
                ? `traffic moved to ${String(moved.seenPeer)} after ${String(moved.tries)} tries`
                : errors([moved, after]) || `${JSON.stringify(moved.errors ?? [])}`,
            };
          },
  );
  if (steady) {
    const loop = await ctx.driver.send({ op: 'loop-stop' });
    ctx.log(
      `steady loop: ${String(loop.succeeded)} ok, ${String(loop.failed)} failed, by egress ${JSON.stringify(loop.peers)}`,
    );
    const last = steps.find((s) => s.step === 'key-rotation');
    if (last && last.outcome === 'ok')
      steps[steps.indexOf(last)] = {
        ...last,
        detail: `${last.detail}; steady loop through rotation and failover: ${String(loop.succeeded)} requests ok, ${String(loop.failed)} failed (${JSON.stringify(loop.peers)})`,
      };
  }
  await step(
    'ohttp',
    ctx.ohttp ??
      skip('Oblivious HTTP is not part of this deployment yet (the hook is ScenarioContext.ohttp)'),
  );
  return steps;
}
