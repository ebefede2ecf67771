import type { PeerLog } from "./peer-events.ts";

export interface Backoff {
  /** First retry delay after a failure or a drop. */
  initialMs: number;
  /** Delays double up to this. */
  maxMs: number;
}

export interface StaticPeersInit {
  /** Dial the address; resolves with the remote peer id once connected. */
  dial(addr: string): Promise<string>;
  /** Whether a transport connection to this peer is currently open. */
  isConnected(peerId: string): boolean;
  log: PeerLog;
  backoff: Backoff;
  /** 0 ≤ x < 1; spreads retries so peers rebooted together do not dial in lockstep. */
  random: () => number;
}

interface Target {
  addr: string;
  peerId: string | null;
  failures: number;
  timer: NodeJS.Timeout | null;
  dialing: boolean;
  connectedAt: number;
}

const STABLE_MS = 5000;

/**
 * Keeps the configured peers connected: dials each address, and after a
 * failure or a drop retries with exponential backoff and jitter. Event
 * driven: nothing runs while every static peer is connected.
 */
export class StaticPeers {
  private readonly targets = new Map<string, Target>();
  private running = false;

  constructor(private readonly init: StaticPeersInit) {}

  start(): void {
    this.running = true;
    for (const t of this.targets.values()) this.schedule(t, 0);
  }

  stop(): void {
    this.running = false;
    for (const t of this.targets.values()) this.cancel(t);
  }

  add(addr: string, peerId: string | null = null): void {
    if (this.targets.has(addr)) return;
    const target: Target = { addr, peerId, failures: 0, timer: null, dialing: false, connectedAt: 0 };
    this.targets.set(addr, target);
    if (this.running && (peerId === null || !this.init.isConnected(peerId))) this.schedule(target, 0);
  }

  addresses(): string[] {
    return [...this.targets.keys()];
  }

  /** The transport lost its last connection to this peer: start redialling it. */
  disconnected(peerId: string): void {
    for (const t of this.targets.values()) {
      if (t.peerId !== peerId) continue;
      // A connection dropped right after it opened (refused, wrong workspace) must not cause a dial storm.
      if (Date.now() - t.connectedAt < STABLE_MS) t.failures++;
      else t.failures = 0;
      this.schedule(t, this.delay(t.failures));
    }
  }

  private schedule(t: Target, ms: number): void {
    if (!this.running) return;
    this.cancel(t);
    t.timer = setTimeout(() => {
      t.timer = null;
      void this.attempt(t);
    }, ms);
    t.timer.unref();
  }

  private cancel(t: Target): void {
    if (t.timer !== null) clearTimeout(t.timer);
    t.timer = null;
  }

  private async attempt(t: Target): Promise<void> {
    if (!this.running || t.dialing) return;
    if (t.peerId !== null && this.init.isConnected(t.peerId)) return;
    t.dialing = true;
    try {
      t.peerId = await this.init.dial(t.addr);
      t.connectedAt = Date.now();
      if (t.failures > 0) this.init.log("info", `reconnected to static peer ${t.addr}`, { addr: t.addr, peerId: t.peerId });
    } catch (err) {
      const wait = this.delay(t.failures);
      t.failures++;
      this.init.log(t.failures === 1 ? "info" : "debug", `static peer ${t.addr} unreachable (${(err as Error).message}); retrying in ${wait} ms`, {
        addr: t.addr,
        attempt: t.failures,
      });
      this.schedule(t, wait);
    } finally {
      t.dialing = false;
    }
  }

  private delay(failures: number): number {
    const { initialMs, maxMs } = this.init.backoff;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(failures, 20));
    return Math.round(base * (0.75 + 0.5 * this.init.random()));
  }
}
