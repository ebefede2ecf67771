/**
 * The console's one connection to the daemon: the protocol's typed client
 * over the console's WebSocket (same methods and events as the socket).
 * Reconnects when the daemon restarts; the store refreshes on each open.
 */
import { connectWebSocket } from "../protocol/light.ts";
import type { Client } from "../protocol/light.ts";
import { EVENT_TYPES } from "../protocol/light.ts";
import type { DaemonEvent } from "../protocol/light.ts";

/**
 * Every event but overlay.ops: the review reads a session when it opens, and leaving the stream
 * out lets the daemon skip building it for a script writing thousands of ops.
 */
const WANTED = EVENT_TYPES.filter((t) => t !== "overlay.ops");

export interface Wire {
  /** The open client; null while (re)connecting. */
  readonly client: Client | null;
  /** The open client, once there is one (views that load before the connection opens wait here). */
  ready(): Promise<Client>;
}

export function openWire(name: string, onOpen: (c: Client) => Promise<void>, onEvent: (e: DaemonEvent) => void, onState: (s: "open" | "closed") => void): Wire {
  let waiting: ((c: Client) => void)[] = [];
  const wire: { client: Client | null; ready(): Promise<Client> } = {
    client: null,
    ready: () => (wire.client ? Promise.resolve(wire.client) : new Promise((resolve) => waiting.push(resolve))),
  };
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/rpc`;
  let delay = 250;
  const attempt = (): void => {
    connectWebSocket(url, { name }).then(
      async (c) => {
        delay = 250;
        wire.client = c;
        c.onClose(() => {
          wire.client = null;
          onState("closed");
          setTimeout(attempt, delay);
        });
        await c.subscribe(onEvent, [...WANTED]);
        // Views waiting to load go now, alongside the store's own refresh.
        const ready = waiting;
        waiting = [];
        for (const w of ready) w(c);
        await onOpen(c);
        onState("open");
      },
      () => {
        onState("closed");
        delay = Math.min(delay * 2, 5000);
        setTimeout(attempt, delay);
      },
    );
  };
  attempt();
  return wire;
}
