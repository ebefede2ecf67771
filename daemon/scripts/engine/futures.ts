/**
 * A run's futures (worker side): what core.await waits on. Each settles once; its listeners
 * (races watching it) run first, then the run hears of it, so a run parked on a race sees
 * the race settled in the same turn.
 */
import type { HostValue, RunError } from "./types.ts";

export interface Future {
  status: "pending" | "ok" | "error";
  value: HostValue;
  error?: RunError;
  /** A core.sleep: a race it wins reports a timeout. */
  sleep: boolean;
  listeners: (() => void)[];
}

export class Futures {
  private readonly all = new Map<number, Future>();
  private next = 1;

  /** `settled(id)`: after future id settled and its listeners ran. */
  constructor(private readonly settled: (id: number) => void) {}

  create(sleep: boolean): number {
    const id = this.next++;
    this.all.set(id, { status: "pending", value: null, sleep, listeners: [] });
    return id;
  }

  get(id: number): Future | undefined {
    return this.all.get(id);
  }

  settle(id: number, status: "ok" | "error", value: HostValue, error?: RunError): void {
    const f = this.all.get(id);
    if (!f || f.status !== "pending") return;
    f.status = status;
    f.value = value;
    f.error = error;
    const ls = f.listeners.splice(0);
    for (const l of ls) l();
    this.settled(id);
  }

  /**
   * Future `id` settles with the first of `ids` to settle: {index, value}, {index, timeout}
   * for a sleep, or that input's error. `winner` (a replay): only that input counts.
   */
  race(id: number, ids: number[], winner: number | null, won: (index: number) => void): void {
    ids.forEach((inputId, i) => {
      const input = this.all.get(inputId);
      if (!input) return;
      if (winner !== null && i + 1 !== winner) return;
      const check = (): void => {
        const me = this.all.get(id);
        if (!me || me.status !== "pending") return;
        if (input.status === "ok") {
          won(i + 1);
          this.settle(id, "ok", input.sleep ? { index: i + 1, timeout: true } : { index: i + 1, value: input.value });
        } else if (input.status === "error") {
          won(i + 1);
          this.settle(id, "error", null, input.error);
        }
      };
      if (input.status !== "pending") check();
      else input.listeners.push(check);
    });
  }

  clear(): void {
    this.all.clear();
  }
}
