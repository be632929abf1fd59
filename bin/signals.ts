/**
 * Catches the first SIGINT/SIGTERM from now on. It must be armed *before* "listening on" is printed: a parent that
 * reads that line and signals at once would otherwise kill us with the default action before a handler exists
 * (measured: 30 of 40 immediate SIGTERMs were fatal when the handler was installed right after printing).
 */
export function catchSignal(): { received: Promise<NodeJS.Signals>; dispose(): void } {
  let onSignal!: (signal: NodeJS.Signals) => void;
  const dispose = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const received = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (signal) => {
      dispose();
      resolve(signal);
    };
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { received, dispose };
}
