/**
 * What a daemon service is and what it is given: declared here, beside the services, so that
 * main.ts (which wires them) and the services (which it starts) do not import each other.
 */
import type { ShowConfig } from "../config/index.ts";
import type { WorkspaceStore } from "../crdt/index.ts";
import type { PeerNode } from "../peer/index.ts";
import type { EventHub } from "./event-hub.ts";
import type { Logger } from "./logger.ts";
import type { MethodRegistry } from "./method-registry.ts";

/** What a plugged-in part (script runtime, triggers...) gets: only what it needs to register methods and events. */
export interface ServiceContext {
  show: ShowConfig;
  store: WorkspaceStore;
  peer: PeerNode | null;
  methods: MethodRegistry;
  events: EventHub;
  log: Logger;
}

export interface DaemonService {
  readonly name: string;
  /** Register methods/events and start; the returned stop runs at shutdown, before the store closes. */
  start(ctx: ServiceContext): Promise<{ stop(): Promise<void> } | void>;
}
