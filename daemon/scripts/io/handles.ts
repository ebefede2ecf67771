/**
 * The objects a run holds open (OSC sockets, MIDI ports, HTTP servers, pending requests),
 * named to Lua by string handles. Lua only ever sees `{ handle = "osc-1", ... }`; the prelude
 * turns that into a table with methods. Everything left open is closed when the run ends.
 */
import { InvalidOperation } from "../../crdt/vocabulary.ts";

export interface Closable {
  close(): void | Promise<void>;
}

export class Handles {
  private readonly open = new Map<string, Closable>();
  private next = 0;
  private ended = false;

  constructor(signal: AbortSignal, private readonly onCloseError: (handle: string, e: unknown) => void) {
    if (signal.aborted) this.ended = true;
    else signal.addEventListener("abort", () => void this.closeAll(), { once: true });
  }

  /** True once the run ended: nothing new may be opened. */
  get closed(): boolean {
    return this.ended;
  }

  add(kind: string, thing: Closable): string {
    const id = `${kind}-${++this.next}`;
    this.open.set(id, thing);
    return id;
  }

  /** The open object behind a handle, checked to be of the expected class. */
  get<T extends Closable>(handle: unknown, cls: abstract new (...a: never[]) => T, what: string): T {
    const thing = typeof handle === "string" ? this.open.get(handle) : undefined;
    if (thing === undefined || !(thing instanceof cls)) {
      throw new InvalidOperation(`${what}: handle ${JSON.stringify(handle ?? null)} is not an open ${what.split(":")[0]} of this run (closed already?)`, { handle: handle ?? null });
    }
    return thing;
  }

  /** Forgets the handle and closes its object; closing twice is a no-op. */
  async close(handle: string): Promise<void> {
    const thing = this.open.get(handle);
    if (!thing) return;
    this.open.delete(handle);
    try {
      await thing.close();
    } catch (e) {
      this.onCloseError(handle, e);
    }
  }

  async closeAll(): Promise<void> {
    this.ended = true;
    await Promise.all([...this.open.keys()].map((h) => this.close(h)));
  }
}
