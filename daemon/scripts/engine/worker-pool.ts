/**
 * Warm Lua workers on the main thread's side. A worker executes one run at a time, but a run
 * parked on `core.await` does not hold the thread, so a worker may host several runs
 * (`maxRunsPerWorker`); idle workers are preferred and new ones spawned up to `max`, then runs
 * wait in a FIFO queue. A worker that dies or is terminated is replaced.
 */
import { MessageChannel, Worker } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { SLOT_REPLY } from "./wire.ts";
import type { FromWorker, SyncReply, ToWorker } from "./wire.ts";

/** Receives one run's (or one syntax check's) messages from its worker. */
export interface WorkerTenant {
  onMessage(m: FromWorker): void;
  /** The worker died (crash, terminate) while this tenant was on it. */
  onExit(code: number): void;
}

const ENTRY = new URL("./worker-entry.mjs", import.meta.url);

export class LuaWorker {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly tenants = new Map<string, WorkerTenant>();
  alive = true;
  /** Hosts one run only (a debugged one, which may hold the thread while paused): never shared. */
  exclusive = false;
  private readonly replyPort: MessagePort;

  constructor(onExit: (w: LuaWorker) => void) {
    const { port1, port2 } = new MessageChannel();
    this.replyPort = port1;
    this.worker = new Worker(ENTRY, { workerData: { replyPort: port2 }, transferList: [port2] });
    this.worker.unref();
    let markReady: () => void = () => undefined;
    let markFailed: (e: Error) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      markFailed = reject;
    });
    this.ready.catch(() => undefined);
    this.worker.on("message", (m: FromWorker) => {
      if (m.t === "ready") markReady();
      else if (m.t === "checked") this.tenants.get(`check:${m.id}`)?.onMessage(m);
      else this.tenants.get(m.runId)?.onMessage(m);
    });
    this.worker.on("error", (e) => markFailed(e));
    this.worker.on("exit", (code) => {
      this.alive = false;
      markFailed(new Error(`Lua worker exited with code ${code} before it was ready`));
      this.replyPort.close();
      const ts = [...this.tenants.values()];
      this.tenants.clear();
      for (const t of ts) t.onExit(code);
      onExit(this);
    });
  }

  get load(): number {
    return this.tenants.size;
  }

  post(m: ToWorker, transfer: MessagePort[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  /** Answers a blocked sync call: post on the reply port, then wake the waiting run. */
  reply(r: SyncReply, control: Int32Array): void {
    if (!this.alive) return;
    this.replyPort.postMessage(r);
    Atomics.store(control, SLOT_REPLY, 1);
    Atomics.notify(control, SLOT_REPLY);
  }

  async terminate(): Promise<void> {
    if (this.alive) await this.worker.terminate();
  }
}

interface Waiter {
  key: string;
  tenant: WorkerTenant;
  resolve: (w: LuaWorker) => void;
  reject: (e: Error) => void;
}

export class WorkerPool {
  private readonly all = new Set<LuaWorker>();
  private readonly queue: Waiter[] = [];
  private closed = false;

  constructor(private readonly max: number, private readonly warm: number, private readonly perWorker: number) {
    for (let i = 0; i < Math.min(warm, max); i++) this.spawn();
  }

  /**
   * A ready worker with `tenant` registered under `key`; FIFO wait when every slot is taken.
   * `exclusive`: a new worker of its own, outside `max`, ended when released.
   */
  async acquire(key: string, tenant: WorkerTenant, exclusive = false): Promise<LuaWorker> {
    if (this.closed) throw new Error("the Lua engine is closed");
    let w = exclusive ? this.spawn() : this.pick();
    if (w && exclusive) w.exclusive = true;
    if (w) w.tenants.set(key, tenant);
    else w = await new Promise<LuaWorker>((resolve, reject) => this.queue.push({ key, tenant, resolve, reject }));
    try {
      await w.ready;
      w.worker.ref();
      return w;
    } catch {
      w.tenants.delete(key);
      return this.acquire(key, tenant, exclusive);
    }
  }

  release(w: LuaWorker, key: string): void {
    w.tenants.delete(key);
    if (w.exclusive) {
      void w.terminate();
      return;
    }
    if (w.load === 0) w.worker.unref();
    this.drain();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new Error("the Lua engine is closed"));
    await Promise.all([...this.all].map((w) => w.terminate()));
  }

  private pick(): LuaWorker | undefined {
    let best: LuaWorker | undefined;
    for (const w of this.all) {
      if (w.alive && !w.exclusive && w.load < this.perWorker && (!best || w.load < best.load)) best = w;
    }
    if (best && best.load === 0) return best;
    if (this.all.size < this.max) return this.spawn();
    return best;
  }

  private drain(): void {
    while (this.queue.length > 0 && !this.closed) {
      const w = this.pick();
      if (!w) return;
      const next = this.queue.shift();
      if (!next) return;
      w.tenants.set(next.key, next.tenant);
      next.resolve(w);
    }
  }

  private spawn(): LuaWorker {
    const w = new LuaWorker((dead) => this.onExit(dead));
    this.all.add(w);
    return w;
  }

  private onExit(dead: LuaWorker): void {
    this.all.delete(dead);
    if (this.closed) return;
    let idle = 0;
    for (const w of this.all) if (w.load === 0 && !w.exclusive) idle++;
    if (dead.exclusive) return this.drain();
    if (idle < this.warm && this.all.size < this.max) this.spawn();
    this.drain();
  }
}
