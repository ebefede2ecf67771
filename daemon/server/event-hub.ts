/**
 * Fan-out of daemon events to socket subscriptions. Parts publish; every
 * subscription whose filter admits the type gets it. A listener that throws
 * is dropped from nothing and breaks nothing: delivery to others continues.
 */
import type { DaemonEvent, EventType } from "../../protocol/index.ts";

export type EventListener = (event: DaemonEvent) => void;

export class EventHub {
  private readonly listeners = new Map<EventListener, ReadonlySet<EventType> | null>();

  /** `types` null: every event. Returns the unsubscribe. */
  subscribe(listener: EventListener, types: readonly EventType[] | null = null): () => void {
    this.listeners.set(listener, types ? new Set(types) : null);
    return () => this.listeners.delete(listener);
  }

  /** True when someone listens to this type: lets producers skip building costly events. */
  wants(type: EventType): boolean {
    for (const filter of this.listeners.values()) if (filter === null || filter.has(type)) return true;
    return false;
  }

  publish(event: DaemonEvent): void {
    for (const [listener, filter] of this.listeners) {
      if (filter !== null && !filter.has(event.type)) continue;
      try {
        listener(event);
      } catch {
        // A subscriber's failure (e.g. a socket that just closed) is its own business.
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
