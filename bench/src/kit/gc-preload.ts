/**
 * Preloaded into the relays by the benchmark only (`--expose-gc --import`): SIGUSR2 runs a
 * full garbage collection, so resident memory is read after garbage, not before.
 */
const gc = (globalThis as { gc?: () => void }).gc;
process.on('SIGUSR2', () => {
  gc?.();
  gc?.();
});
