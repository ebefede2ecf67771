/**
 * The methods every daemon serves: status, schema, reads, writes (the full
 * operation vocabulary and convenience mutations), conflicts, peers and
 * subscriptions. Writes are one bundle each, made by the calling client
 * (actor {kind:"app", name}).
 */
import { EntityNotFound, InvalidOperation, entityName } from "../crdt/index.ts";
import type { Operation } from "../crdt/vocabulary.ts";
import type { WorkspaceStore, BundleResult } from "../crdt/index.ts";
import type { PeerNode } from "../peer/index.ts";
import { EVENT_TYPES } from "../../protocol/index.ts";
import type { EntityView, SchemaResult, StatusResult } from "../../protocol/index.ts";
import type { MethodRegistry } from "./method-registry.ts";
import { schemaResult } from "./schema-view.ts";
import { InvalidParams, bool, int, list, nonEmpty, obj, oneOf, opt, record, str, value } from "./params.ts";
import { operation } from "./operation-check.ts";

export interface CoreDeps {
  store: WorkspaceStore;
  /** Null when the daemon runs without networking. */
  peer: PeerNode | null;
  info: { version: string; showDir: string; socket: string; workspaceName: string; peerName: string; startedAt: number };
  now?: () => number;
}

const empty = obj({});
const fields = record(value);

export function registerCoreMethods(methods: MethodRegistry, deps: CoreDeps): void {
  const { store, peer } = deps;
  const now = deps.now ?? Date.now;
  const named = (id: string): EntityView => {
    const e = store.getEntity(id);
    const undeclared = Object.keys(e.tables).filter((t) => !store.schema.tables.has(t));
    return { ...e, name: entityName(e, store.schema), ...(undeclared.length ? { undeclaredTables: undeclared } : {}) };
  };

  methods.register("hello", obj({ name: nonEmpty, user: opt(nonEmpty) }), (p, ctx) => {
    ctx.setClientName(p.name);
    if (p.user !== undefined) ctx.setUser(p.user);
    return { name: p.name, peerId: store.peerId, workspace: store.workspaceId, version: deps.info.version };
  });

  methods.register("status", empty, (_p, ctx): StatusResult => {
    const s = store.stats();
    return {
      version: deps.info.version,
      pid: process.pid,
      showDir: deps.info.showDir,
      socket: deps.info.socket,
      workspace: { id: store.workspaceId, name: deps.info.workspaceName },
      peerId: store.peerId,
      peerName: deps.info.peerName,
      addresses: peer?.addresses() ?? [],
      peers: peer?.peers().length ?? 0,
      entities: s.entities,
      conflicts: s.conflicts,
      bulkConflicts: store.bulkConflicts().length,
      heads: s.heads,
      changes: s.changes,
      bundles: store.bundleCount(),
      uptimeMs: now() - deps.info.startedAt,
      client: ctx.clientName,
    };
  });

  methods.register("schema", empty, (): SchemaResult => schemaResult(store.schema));

  methods.register("query", obj({ expr: nonEmpty, params: opt(list(value)), limit: opt(int(0)), idsOnly: opt(bool) }), (p) => {
    const all = store.queryIds(p.expr, p.params ?? []);
    const ids = p.limit !== undefined ? all.slice(0, p.limit) : all;
    if (p.idsOnly) return { count: all.length, ids };
    return { count: all.length, ids, entities: ids.map(named) };
  });

  methods.register("get", obj({ id: nonEmpty, field: opt(nonEmpty) }), (p) => {
    if (p.field === undefined) return { entity: named(p.id) };
    const def = store.resolveField(p.field, store.facetsOf(p.id));
    return { id: p.id, field: def.key, value: store.getField(p.id, p.field) };
  });

  // Names for ids a client is about to show (history, conflicts, reviews); an id no longer known keeps no name.
  methods.register("entities.names", obj({ ids: list(nonEmpty, 10_000) }), (p) => {
    const names: Record<string, string> = {};
    for (const id of p.ids) {
      try {
        names[id] = named(id).name;
      } catch (e) {
        if (!(e instanceof EntityNotFound)) throw e;
      }
    }
    return { names };
  });

  // Many entities in one call (a grid's visible rows); a deleted or unknown id gives null in its place.
  methods.register("entities.get", obj({ ids: list(nonEmpty, 5000) }), (p) => ({
    entities: p.ids.map((id) => (store.entityExists(id) ? store.getEntity(id) : null)),
  }));

  methods.register("history", obj({ entity: opt(nonEmpty), limit: opt(int(1, 100_000)), changes: opt(bool) }), async (p) => {
    const bundles = await store.history({ entity: p.entity, limit: p.limit ?? 100 });
    if (!p.changes) return { bundles };
    return { bundles: bundles.map((b) => ({ ...b, ...store.bundleChanges(b.hash) })) };
  });

  methods.register("apply", obj({ ops: list(operation, 100_000), origin: opt(record((v) => v)) }), (p, ctx) => {
    if (p.ops.length === 0) throw new InvalidParams("params.ops", "must hold at least one operation");
    return store.apply(p.ops, { actor: ctx.actor, origin: p.origin });
  });

  methods.register(
    "entity.create",
    obj({ id: opt(nonEmpty), tables: opt(list(nonEmpty)), facets: opt(list(nonEmpty)), fields: opt(fields) }),
    async (p, ctx) => {
      const r = await store.apply([{ op: "CreateEntity", ...p }], { actor: ctx.actor });
      return { ...r, id: r.results[0]?.id ?? "" };
    },
  );

  methods.register("entity.set", obj({ id: nonEmpty, field: opt(nonEmpty), value: opt(value), fields: opt(fields) }), (p, ctx) => {
    const ops: Operation[] = [];
    if (p.field !== undefined) {
      if (!("value" in p)) throw new InvalidParams("params.value", "is required with params.field (null clears the field)");
      ops.push({ op: "SetField", id: p.id, field: p.field, value: p.value ?? null });
    } else if ("value" in p) throw new InvalidParams("params.field", "is required with params.value");
    for (const [field, v] of Object.entries(p.fields ?? {})) ops.push({ op: "SetField", id: p.id, field, value: v });
    if (ops.length === 0) throw new InvalidParams("params", "give field and value, or fields");
    return store.apply(ops, { actor: ctx.actor });
  });

  methods.register("entity.delete", obj({ id: nonEmpty }), (p, ctx) => store.apply([{ op: "DeleteEntity", id: p.id }], { actor: ctx.actor }));

  methods.register("table.add", obj({ id: nonEmpty, table: nonEmpty, membership: opt(fields) }), (p, ctx) =>
    store.apply([{ op: "AddToTable", ...p }], { actor: ctx.actor }),
  );
  methods.register("table.remove", obj({ id: nonEmpty, table: nonEmpty }), (p, ctx) =>
    store.apply([{ op: "RemoveFromTable", ...p }], { actor: ctx.actor }),
  );

  methods.register(
    "edge.create",
    obj({
      type: nonEmpty,
      source: nonEmpty,
      target: nonEmpty,
      properties: opt(fields),
      edgeId: opt(nonEmpty),
      after: opt(nonEmpty),
      before: opt(nonEmpty),
    }),
    async (p, ctx) => {
      const ordered = store.schema.edgeType(p.type).ordered;
      if (!ordered && (p.after !== undefined || p.before !== undefined)) {
        throw new InvalidOperation(`edge type "${p.type}" is not ordered: after/before do not apply`, { type: p.type });
      }
      const op: Operation = ordered ? { op: "CreateOrderedEdge", ...p } : { op: "CreateEdge", ...p };
      const r = await store.apply([op], { actor: ctx.actor });
      return { ...r, edgeId: r.results[0]?.edgeId ?? "" };
    },
  );
  methods.register("edge.delete", obj({ edgeId: nonEmpty }), (p, ctx) => store.apply([{ op: "DeleteEdge", edgeId: p.edgeId }], { actor: ctx.actor }));
  methods.register("edge.move", obj({ edgeId: nonEmpty, after: opt(nonEmpty), before: opt(nonEmpty) }), (p, ctx) =>
    store.apply([{ op: "MoveOrderedEdge", ...p }], { actor: ctx.actor }),
  );

  methods.register("edges.list", obj({ entity: nonEmpty, type: opt(nonEmpty), direction: opt(oneOf(["out", "in", "both"] as const)) }), (p) => ({
    edges: store.edgesOf(p.entity, { type: p.type, direction: p.direction }),
  }));
  methods.register("edges.ordered", obj({ target: nonEmpty, type: nonEmpty }), (p) => {
    if (!store.schema.edgeType(p.type).ordered) throw new InvalidOperation(`edge type "${p.type}" is not ordered: its edges have no running order`, { type: p.type });
    return { edges: store.orderedEdges(p.target, p.type) };
  });

  methods.register("conflicts.list", empty, () => ({ conflicts: store.conflicts(), bulk: store.bulkConflicts() }));

  methods.register(
    "conflicts.resolve",
    obj({ id: nonEmpty, value: opt(value), keep: opt(oneOf(["ours", "theirs"] as const)) }),
    (p, ctx): Promise<BundleResult> => {
      const rec = store.conflict(p.id);
      if (!rec) throw new InvalidOperation(`conflict ${p.id} is not open (\`openprod conflicts\` lists the open ones)`, { conflict: p.id });
      const hasValue = "value" in p;
      if (hasValue === (p.keep !== undefined)) throw new InvalidParams("params", "give exactly one of value or keep (\"ours\" | \"theirs\")");
      if (hasValue) return store.resolveConflict(p.id, p.value ?? null, { actor: ctx.actor });
      const ours = rec.values.find((v) => v.peer === store.peerId);
      const theirs = rec.values.find((v) => v.peer !== store.peerId);
      const pick = p.keep === "ours" ? ours : theirs;
      if (!pick) {
        throw new InvalidOperation(
          `conflict ${p.id} has no value from ${p.keep === "ours" ? "this peer" : "another peer"}; give the value to keep instead`,
          { conflict: p.id, values: rec.values.map((v) => ({ value: v.value, peer: v.peer })) },
        );
      }
      return store.resolveConflict(p.id, pick.value, { actor: ctx.actor });
    },
  );

  methods.register("conflicts.resolveBulk", obj({ id: nonEmpty, keep: nonEmpty }), (p, ctx) => store.resolveBulk(p.id, p.keep, { actor: ctx.actor }));

  methods.register("peers.list", empty, () => ({ peerId: store.peerId, peerName: deps.info.peerName, addresses: peer?.addresses() ?? [], peers: peer?.peers() ?? [] }));

  methods.register("peers.connect", obj({ addr: nonEmpty }), async (p) => {
    if (!peer) throw new InvalidOperation("this daemon runs without networking (no peer node)", {});
    await peer.connect(p.addr);
    return { peers: peer.peers() };
  });

  methods.register("subscribe", obj({ events: opt(list(oneOf(EVENT_TYPES))) }), (p, ctx) => ({ subscription: ctx.subscribe(p.events ?? null) }));

  methods.register("unsubscribe", obj({ subscription: str }), (p, ctx) => {
    if (!ctx.unsubscribe(p.subscription)) throw new InvalidOperation(`no subscription ${p.subscription} on this connection`, { subscription: p.subscription });
    return { ok: true };
  });
}

