import type { VaultEvent } from './client';

type Listener = (event: VaultEvent) => void;

/** A tiny synchronous event hub; a throwing listener does not stop the others. */
export class VaultEvents {
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: VaultEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // One broken view must not keep the others from hearing about a lock.
      }
    }
  }
}
