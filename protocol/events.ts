/**
 * Notifications of a `subscribe` stream. Each arrives as
 * `{"jsonrpc":"2.0","method":"event","params":{"subscription":"s1","event":{...}}}`.
 * Services add their own event types (script progress, overlay ops, toasts,
 * dialog requests) by extending `EventMap` (see script-events.ts).
 */
import type { BundleInfo, FieldChange } from "./bundles.ts";
import type { ConflictRecord } from "./conflicts.ts";
import type { PeerInfo } from "./peers.ts";
import { SCRIPT_EVENT_TYPES } from "./script-events.ts";

export interface EventMap {
  /** Bundles applied to the workspace: written here ("local") or merged from a peer ("remote"). */
  bundle: { origin: "local" | "remote"; bundles: BundleInfo[]; changes: FieldChange[]; heads: string[] };
  "conflict.opened": { conflict: ConflictRecord };
  "conflict.closed": { id: string };
  "peer.up": { peer: PeerInfo };
  "peer.down": { peerId: string; reason: string };
  log: { time: string; level: "debug" | "info" | "warn" | "error"; msg: string; fields: Record<string, unknown> };
}

export type EventType = keyof EventMap;
export type DaemonEvent = { [K in EventType]: { type: K } & EventMap[K] }[EventType];

export const EVENT_TYPES: readonly EventType[] = ["bundle", "conflict.opened", "conflict.closed", "peer.up", "peer.down", "log", ...SCRIPT_EVENT_TYPES];

export interface EventNotification {
  subscription: string;
  event: DaemonEvent;
}
