/**
 * A session overlay's document: a copy-on-write layer over the canonical Automerge document as
 * of the session's snapshot (or as it is now, for live reads). It implements the same DocAccess
 * the operation interpreter writes canonical through, so an overlay runs exactly the interpreter
 * a commit will run. Writes land in plain JS maps; base objects are never touched. Every write is
 * journaled so that an operation that fails halfway is undone as a whole, as a bundle would be.
 */
import type { Backend, Heads } from "./automerge-backend.ts";
import type { DocAccess } from "./doc-access.ts";

type Datatype = Parameters<Backend["put"]>[3];
type Value = Parameters<Backend["put"]>[2];
type FullValue = NonNullable<ReturnType<Backend["getWithType"]>>;
type Scalar = string | number | boolean | null;

/** What one key of a map holds in the layer: a scalar, an object, or nothing (deleted). */
type Slot = { s: Scalar; dt: string } | { o: string; kind: "map" | "list" | "text" } | null;

/** An object the layer owns: created in the overlay, or a base text/list copied on first edit. */
type Owned = { kind: "map" } | { kind: "text"; text: string } | { kind: "list"; items: Slot[] };

const OWN_PREFIX = "overlay:";

/** The layer's state, shared by its views at different heads. */
export class OverlayLayer {
  /** Map keys written by the overlay, by object id. */
  readonly maps = new Map<string, Map<string, Slot>>();
  readonly owned = new Map<string, Owned>();
  private readonly journal: (() => void)[] = [];
  private seq = 0;

  constructor(readonly base: Backend) {}

  /** A DocAccess over the base at `heads` (undefined: canonical now) with this layer on top. */
  view(heads: Heads | undefined): DocAccess {
    return new LayeredAccess(this, heads);
  }

  /** A mark to roll back to. */
  mark(): number {
    return this.journal.length;
  }

  rollback(mark: number): void {
    while (this.journal.length > mark) (this.journal.pop() as () => void)();
  }

  /** Forget the undo steps (the operation succeeded); keeps the journal from growing with the session. */
  settle(): void {
    this.journal.length = 0;
  }

  newObject(o: Owned): string {
    const id = `${OWN_PREFIX}${++this.seq}`;
    this.owned.set(id, o);
    this.journal.push(() => this.owned.delete(id));
    return id;
  }

  setSlot(obj: string, key: string, slot: Slot): void {
    let m = this.maps.get(obj);
    if (!m) this.maps.set(obj, (m = new Map()));
    const had = m.has(key);
    const prev = m.get(key);
    m.set(key, slot);
    const map = m;
    this.journal.push(() => (had ? map.set(key, prev as Slot) : map.delete(key)));
  }

  /** The owned copy of a text or list object, copying a base one on its first edit. */
  ownSequence(obj: string, heads: Heads | undefined): Extract<Owned, { kind: "text" | "list" }> {
    const o = this.owned.get(obj);
    if (o && o.kind !== "map") {
      const copy = o.kind === "text" ? { ...o } : { kind: "list" as const, items: [...o.items] };
      this.journal.push(() => this.owned.set(obj, copy));
      return o;
    }
    const t = this.base.objInfo(obj, heads).type;
    const fresh: Extract<Owned, { kind: "text" | "list" }> =
      t === "text" ? { kind: "text", text: this.base.text(obj, heads) } : { kind: "list", items: baseListSlots(this.base, obj, heads) };
    this.owned.set(obj, fresh);
    this.journal.push(() => this.owned.delete(obj));
    return fresh;
  }
}

function baseListSlots(be: Backend, obj: string, heads: Heads | undefined): Slot[] {
  const n = be.length(obj, heads);
  const out: Slot[] = [];
  for (let i = 0; i < n; i++) out.push(toSlot(be.getWithType(obj, i, heads)));
  return out;
}

function toSlot(v: FullValue | null): Slot {
  if (!v) return null;
  const [dt, value] = v;
  if (dt === "map" || dt === "list" || dt === "text") return { o: value, kind: dt };
  if (dt === "table") return { o: value, kind: "map" };
  return { s: value instanceof Date ? value.toISOString() : value instanceof Uint8Array ? null : (value as Scalar), dt };
}

function scalarSlot(value: Value, datatype?: Datatype): Slot {
  const v = value as Scalar;
  if (datatype) return { s: v, dt: datatype };
  switch (typeof v) {
    case "string":
      return { s: v, dt: "str" };
    case "boolean":
      return { s: v, dt: "boolean" };
    case "number":
      return { s: v, dt: Number.isInteger(v) ? "int" : "f64" };
    default:
      return { s: null, dt: "null" };
  }
}

function fullValue(slot: Slot): FullValue | null {
  if (slot === null) return null;
  if ("o" in slot) return [slot.kind, slot.o];
  return [slot.dt, slot.s] as FullValue;
}

class LayeredAccess implements DocAccess {
  constructor(
    private readonly layer: OverlayLayer,
    private readonly heads: Heads | undefined,
  ) {}

  private get be(): Backend {
    return this.layer.base;
  }

  private slot(obj: string, prop: string | number): Slot | undefined {
    const owned = this.layer.owned.get(obj);
    if (owned && owned.kind === "list") return typeof prop === "number" ? (owned.items[prop] ?? null) : null;
    if (typeof prop !== "string") return undefined;
    const m = this.layer.maps.get(obj);
    if (m && m.has(prop)) return m.get(prop) as Slot;
    if (owned) return null;
    return undefined;
  }

  getWithType(obj: string, prop: string | number, heads?: Heads): FullValue | null {
    const s = this.slot(obj, prop);
    if (s !== undefined) return fullValue(s);
    return this.be.getWithType(obj, prop, heads ?? this.heads);
  }

  get(obj: string, prop: string | number, heads?: Heads): Value | undefined {
    const v = this.getWithType(obj, prop, heads);
    return v === null ? undefined : (v[1] as Value);
  }

  keys(obj: string, heads?: Heads): string[] {
    const m = this.layer.maps.get(obj);
    const own = this.layer.owned.has(obj);
    const base = own ? [] : this.be.keys(obj, heads ?? this.heads);
    if (!m) return base;
    const out = new Set(base);
    for (const [k, s] of m) {
      if (s === null) out.delete(k);
      else out.add(k);
    }
    return [...out].sort();
  }

  put(obj: string, prop: string | number, value: Value, datatype?: Datatype): void {
    const owned = this.layer.owned.get(obj);
    if (owned && owned.kind === "list") {
      const seq = this.layer.ownSequence(obj, this.heads) as Extract<Owned, { kind: "list" }>;
      seq.items[prop as number] = scalarSlot(value, datatype);
      return;
    }
    this.layer.setSlot(obj, String(prop), scalarSlot(value, datatype));
  }

  putObject(obj: string, prop: string | number, value: unknown): string {
    let id: string;
    if (typeof value === "string") id = this.layer.newObject({ kind: "text", text: value });
    else if (Array.isArray(value)) id = this.layer.newObject({ kind: "list", items: value.map((v) => scalarSlot(v as Value)) });
    else {
      id = this.layer.newObject({ kind: "map" });
      for (const [k, v] of Object.entries(value as Record<string, Value>)) this.layer.setSlot(id, k, scalarSlot(v));
    }
    const kind = typeof value === "string" ? "text" : Array.isArray(value) ? "list" : "map";
    this.layer.setSlot(obj, String(prop), { o: id, kind });
    return id;
  }

  delete(obj: string, prop: string | number): void {
    if (typeof prop === "number") {
      const seq = this.layer.ownSequence(obj, this.heads) as Extract<Owned, { kind: "list" }>;
      seq.items.splice(prop, 1);
      return;
    }
    this.layer.setSlot(obj, prop, null);
  }

  splice(obj: string, start: number, deleteCount: number, text?: string | Value[]): void {
    const seq = this.layer.ownSequence(obj, this.heads);
    if (seq.kind === "text") {
      seq.text = seq.text.slice(0, start) + (typeof text === "string" ? text : "") + seq.text.slice(start + deleteCount);
    } else {
      seq.items.splice(start, deleteCount, ...(Array.isArray(text) ? text.map((v) => scalarSlot(v)) : []));
    }
  }

  insert(obj: string, index: number, value: Value, datatype?: Datatype): void {
    const seq = this.layer.ownSequence(obj, this.heads) as Extract<Owned, { kind: "list" }>;
    seq.items.splice(index, 0, scalarSlot(value, datatype));
  }

  updateText(obj: string, text: string): void {
    const seq = this.layer.ownSequence(obj, this.heads) as Extract<Owned, { kind: "text" }>;
    seq.text = text;
  }

  text(obj: string, heads?: Heads): string {
    const o = this.layer.owned.get(obj);
    if (o && o.kind === "text") return o.text;
    return this.be.text(obj, heads ?? this.heads);
  }

  length(obj: string, heads?: Heads): number {
    const o = this.layer.owned.get(obj);
    if (o && o.kind === "text") return o.text.length;
    if (o && o.kind === "list") return o.items.length;
    return this.be.length(obj, heads ?? this.heads);
  }
}
