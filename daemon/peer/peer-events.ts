import type { PeerInfo } from "../../protocol/index.ts";

/** What the node reports about its peers is the wire's PeerInfo: handed to clients as peer up/down events as it is. */
export type { PeerInfo } from "../../protocol/index.ts";

export interface PeerDown {
  peerId: string;
  reason: string;
}

/** A conversation with a peer was ended because something was wrong; `code` is stable, `message` is for the technician. */
export interface SyncErrorEvent {
  peerId: string;
  remoteAddr: string;
  code: string;
  message: string;
  /** true when the remote peer reported the problem, false when we detected it. */
  remote: boolean;
}

export interface PeerNodeEvents {
  "peer:up": PeerInfo;
  "peer:down": PeerDown;
  "sync:error": SyncErrorEvent;
}

export type LogLevel = "debug" | "info" | "warn" | "error";
export type PeerLog = (level: LogLevel, msg: string, fields: Record<string, unknown>) => void;

/** Minimal typed listener set; errors thrown by a listener are logged, never break the transport. */
export class PeerEventHub {
  private readonly listeners: { [K in keyof PeerNodeEvents]: Set<(e: PeerNodeEvents[K]) => void> } = {
    "peer:up": new Set(),
    "peer:down": new Set(),
    "sync:error": new Set(),
  };

  constructor(private readonly log: PeerLog) {}

  on<K extends keyof PeerNodeEvents>(event: K, listener: (e: PeerNodeEvents[K]) => void): () => void {
    const set = this.listeners[event] as Set<(e: PeerNodeEvents[K]) => void>;
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof PeerNodeEvents>(event: K, payload: PeerNodeEvents[K]): void {
    for (const listener of this.listeners[event] as Set<(e: PeerNodeEvents[K]) => void>) {
      try {
        listener(payload);
      } catch (err) {
        this.log("error", `a ${event} listener threw: ${(err as Error).message}`, { event });
      }
    }
  }
}
