/**
 * Preloaded into an app started with `gcOnSignal` (`--expose-gc --import`), by the bench's
 * memory figures: SIGUSR2 runs a full garbage collection, so resident memory is read after
 * garbage, not before.
 */
const gc = (globalThis as { gc?: () => void }).gc;
process.on('SIGUSR2', () => {
  gc?.();
  gc?.();
});
