/**
 * The console's one connection to the daemon: the protocol's typed client
 * over the console's WebSocket (same methods and events as the socket).
 * Reconnects when the daemon restarts; the store refreshes on each open.
 */
import { connectWebSocket } from "../protocol/ws-client.ts";
import type { Client } from "../protocol/rpc-channel.ts";
import type { DaemonEvent } from "../protocol/events.ts";

export interface Wire {
  /** The open client; null while (re)connecting. */
  readonly client: Client | null;
}

export function openWire(name: string, onOpen: (c: Client) => Promise<void>, onEvent: (e: DaemonEvent) => void, onState: (s: "open" | "closed") => void): Wire {
  const wire: { client: Client | null } = { client: null };
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
        await c.subscribe(onEvent);
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
