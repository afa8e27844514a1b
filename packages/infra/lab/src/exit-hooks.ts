/**
 * Destroys live labs however the harness ends:
 *
 *   SIGINT / SIGTERM / SIGHUP  destroy() every lab, then die of the same signal (unless the
 *                              harness has signal handlers of its own, which then decide);
 *                              a second signal while that runs tears down synchronously at once
 *   uncaught exception         a synchronous teardown before Node prints the error and exits
 *                              (skipped when the harness handles 'uncaughtException' itself)
 *   process exit               a synchronous teardown of any lab still alive
 *
 * SIGKILL cannot be caught: that is what the manifest and the sweep are for. The hooks are
 * installed with the first lab and removed with the last, so a process without a lab keeps
 * Node's default signal behaviour.
 */

export interface Destroyable {
  readonly destroyed: boolean;
  destroy(): Promise<unknown>;
  destroySync(): unknown;
}

const live = new Set<Destroyable>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let handling = false;

function onSignal(signal: NodeJS.Signals): void {
  if (handling) {
    for (const lab of [...live]) lab.destroySync();
    process.exit(128 + signalNumber(signal));
  }
  handling = true;
  void Promise.allSettled([...live].map((lab) => lab.destroy())).then(() => {
    uninstall();
    handling = false;
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

function onUncaught(_err: unknown, _origin: string): void {
  if (process.listenerCount('uncaughtException') > 0) return;
  for (const lab of [...live]) lab.destroySync();
}

function onExit(): void {
  for (const lab of [...live]) if (!lab.destroyed) lab.destroySync();
}

function install(): void {
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('uncaughtExceptionMonitor', onUncaught);
  process.on('exit', onExit);
}

function uninstall(): void {
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off('uncaughtExceptionMonitor', onUncaught);
  process.off('exit', onExit);
}

export function guard(lab: Destroyable): void {
  if (live.size === 0) install();
  live.add(lab);
}

export function release(lab: Destroyable): void {
  if (!live.delete(lab)) return;
  // While a signal is being handled, the handler uninstalls once every lab is down.
  if (live.size === 0 && !handling) uninstall();
}

function signalNumber(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1;
}
