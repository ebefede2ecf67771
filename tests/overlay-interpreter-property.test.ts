// One interpreter of the operation vocabulary: for any sequence of operations over any small
// workspace, running them in a session overlay and committing gives the canonical state that
// running them directly gives, and the same errors at the same operations.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceStore, levelPersistence } from "../daemon/crdt/index.ts";
import type { FieldValue, Operation } from "../daemon/crdt/index.ts";
import { Overlay } from "../daemon/scripts/runtime/overlay.ts";
import { storeBase } from "../daemon/scripts/runtime/overlay-base.ts";
import { USER, exampleSchema } from "./fixtures/runtime-kit/kit.ts";

let dir = "";
let direct: WorkspaceStore;
let viaOverlay: WorkspaceStore;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "openprod-interp-"));
  const schema = await exampleSchema();
  direct = await WorkspaceStore.open({ persistence: levelPersistence({ dir: path.join(dir, "direct") }), schema, workspaceId: "ws", peerId: "peer-a" });
  viaOverlay = await WorkspaceStore.open({ persistence: levelPersistence({ dir: path.join(dir, "overlay") }), schema, workspaceId: "ws", peerId: "peer-b" });
});
afterAll(async () => {
  await direct.close();
  await viaOverlay.close();
  rmSync(dir, { recursive: true, force: true });
});

const N_ENTITIES = 5;
const N_EDGES = 6;

/** Ids of one run (prefix `r<n>-`), so runs share the two stores without seeing each other. */
function ids(prefix: string): { e: string[]; x: string[]; s: string[] } {
  return {
    e: Array.from({ length: N_ENTITIES }, (_, i) => `${prefix}e${i}`),
    x: Array.from({ length: N_EDGES }, (_, i) => `${prefix}x${i}`),
    s: Array.from({ length: 2 }, (_, i) => `${prefix}s${i}`),
  };
}

/** Generated ops name ids with the placeholder prefix; each execution (shrinking included) gets its own. */
const PLACEHOLDER = "RUN-";
const forRun = (ops: Operation[], prefix: string): Operation[] => JSON.parse(JSON.stringify(ops).replaceAll(PLACEHOLDER, prefix)) as Operation[];

const TABLES = ["lighting_fixtures", "lighting_cues", "scenes", "contacts", "no_such_table"];
const FACETS = ["lighting.Fixture", "lighting.Cue", "lighting.Scene", "sm.Contact"];
const FIELDS: [string, fc.Arbitrary<FieldValue>][] = [
  ["channel", fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constant("loud"))],
  ["number", fc.integer({ min: 0, max: 9 })],
  ["name", fc.oneof(fc.constantFrom("Ada", "Bo"), fc.constant(null))],
  ["email", fc.constantFrom("a@x", "b@x")],
  ["intensity", fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(0.5))],
  ["tags", fc.constantFrom(["a"], ["a", "b"], [])],
  ["notes", fc.constantFrom("hello", "")],
  ["nosuch", fc.constant(1)],
];

/** One random operation over the run's id pools (some ids never exist: errors are part of the property). */
function operation(): fc.Arbitrary<Operation> {
  const { e, x, s } = ids(PLACEHOLDER);
  const ent = fc.constantFrom(...e, `${PLACEHOLDER}missing`);
  const edge = fc.constantFrom(...x);
  const field = fc.constantFrom(...FIELDS).chain(([name, value]) => value.map((v) => [name, v] as const));
  const fields = fc.array(field, { maxLength: 2 }).map((kv) => Object.fromEntries(kv) as Record<string, FieldValue>);
  const placement = fc.oneof(fc.constant({}), edge.map((after) => ({ after })), edge.map((before) => ({ before })));
  return fc.oneof(
    fc.record({ op: fc.constant("CreateEntity" as const), id: fc.constantFrom(...e), tables: fc.subarray(TABLES.slice(0, 4), { maxLength: 2 }), facets: fc.subarray(FACETS, { maxLength: 1 }), fields }),
    fc.record({ op: fc.constant("DeleteEntity" as const), id: ent }),
    field.chain(([name, value]) => ent.map((id) => ({ op: "SetField" as const, id, field: name, value }))),
    fc.record({ op: fc.constant("ApplyCRDT" as const), id: ent, field: fc.constant("notes"), edit: fc.oneof(fc.constant({ kind: "text.insert" as const, index: 0, text: "Q" }), fc.constant({ kind: "text.delete" as const, start: 0, end: 2 })) }),
    fc.record({ op: fc.constant("ApplyCRDT" as const), id: ent, field: fc.constant("tags"), edit: fc.oneof(fc.constant({ kind: "list.append" as const, value: "z" }), fc.constant({ kind: "list.remove_at" as const, index: 0 })) }),
    fc.record({ op: fc.constant("AddToTable" as const), id: ent, table: fc.constantFrom(...TABLES), membership: fc.constant({}) }),
    fc.record({ op: fc.constant("RemoveFromTable" as const), id: ent, table: fc.constantFrom(...TABLES) }),
    fc.record({ op: fc.constant("AttachFacet" as const), id: ent, facet: fc.constantFrom(...FACETS), fields: fc.constant({}) }),
    fc.record({ op: fc.constant("DetachFacet" as const), id: ent, facet: fc.constantFrom(...FACETS), preserve: fc.boolean() }),
    fc.record({ op: fc.constant("CreateEdge" as const), edgeId: edge, type: fc.constantFrom("scene", "mounted_at", "in_cue_list"), source: ent, target: ent }),
    fc.record({ op: fc.constant("CreateEdge" as const), edgeId: fc.constantFrom(...x.slice(3)), type: fc.constantFrom("scene", "mounted_at"), source: fc.constantFrom(...e.slice(0, 4)), target: fc.constantFrom(...e.slice(0, 4)) }),
    fc.record({ op: fc.constant("DeleteEdge" as const), edgeId: edge }),
    placement.chain((p) => fc.record({ op: fc.constant("CreateOrderedEdge" as const), edgeId: edge, type: fc.constantFrom("in_cue_list", "scene"), source: ent, target: fc.constant(e[0]) }).map((o) => ({ ...o, ...p }))),
    placement.chain((p) => edge.map((edgeId) => ({ op: "MoveOrderedEdge" as const, edgeId, ...p }))),
    fc.constantFrom(...x.slice(0, 2)).map((edgeId) => ({ op: "MoveOrderedEdge" as const, edgeId })),
    fc.record({ op: fc.constant("MergeEntities" as const), into: ent, from: ent, resolution: fc.oneof(fc.constant({}), fc.constant({ channel: 3 })) }),
    fc.record({ op: fc.constant("SplitEntity" as const), source: ent, distribution: fc.constantFrom(...FACETS).map((f) => ({ [s[0]]: [f] })) }),
    fc.constant({ op: "ResolveConflict" as const, conflictId: `${PLACEHOLDER}no-such-conflict`, value: 1 }),
  );
}

type Outcome = "ok" | string;

const outcome = async (fn: () => unknown): Promise<Outcome> => {
  try {
    await fn();
    return "ok";
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return `${err.code ?? "Error"}: ${err.message ?? String(e)}`;
  }
};

/** The canonical state of a run's ids, in words the two stores can be compared by. */
function state(store: WorkspaceStore, prefix: string): unknown {
  const { e, x, s } = ids(prefix);
  const entities = [...e, ...s].map((id) => {
    if (!store.entityExists(id)) return [id, "absent"];
    const v = store.getEntity(id);
    return [id, v.id, [...v.facets].sort(), Object.keys(v.tables).sort(), v.fields];
  });
  const edges = x.map((id) => {
    const g = store.edge(id);
    return g ? [id, g.type, g.source, g.target, g.properties, g.position === null] : [id, "absent"];
  });
  const order = e.flatMap((target) => ["in_cue_list", "scene"].map((type) => [target, type, store.orderedEdges(target, type).map((g) => g.id)]));
  return { entities, edges, order };
}

let runs = 0;
/** Operation types that succeeded at least once (the example sequence below makes each succeed). */
const applied = new Set<string>();

describe("an overlay and canonical share one interpreter", () => {
  it("ops applied in an overlay and committed give the same state and the same errors as applied directly", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation(), { minLength: 1, maxLength: 25 }), async (generated) => {
          const prefix = `r${runs++}-`;
          const ops = forRun(generated, prefix);
          const { e, x } = ids(prefix);
          // The same starting workspace in both stores.
          const start: Operation[] = [
            { op: "CreateEntity", id: e[0], tables: ["scenes"], fields: { name: "list" } },
            { op: "CreateEntity", id: e[1], tables: ["lighting_fixtures"], fields: { channel: 1, notes: "abc", tags: ["t"] } },
            { op: "CreateEntity", id: e[2], tables: ["lighting_cues"], fields: { number: 1 } },
            { op: "CreateEntity", id: e[3], tables: ["lighting_fixtures", "contacts"], fields: { channel: 2, name: "Bo" } },
            { op: "CreateOrderedEdge", edgeId: x[0], type: "in_cue_list", source: e[2], target: e[0] },
            { op: "CreateOrderedEdge", edgeId: x[1], type: "in_cue_list", source: e[1], target: e[0] },
            { op: "CreateEdge", edgeId: x[2], type: "scene", source: e[2], target: e[3], properties: { note: "n" } },
          ];
          await direct.apply(start, USER);
          await viaOverlay.apply(start, USER);

          const directOutcomes: Outcome[] = [];
          for (const op of ops) directOutcomes.push(await outcome(() => direct.apply([op], USER)));

          const overlay = new Overlay(viaOverlay);
          const base = storeBase(viaOverlay, viaOverlay.heads());
          const overlayOutcomes: Outcome[] = [];
          for (const op of ops) overlayOutcomes.push(await outcome(() => overlay.apply(op, base)));
          expect(overlayOutcomes).toEqual(directOutcomes);
          ops.forEach((op, i) => {
            if (directOutcomes[i] === "ok") applied.add(op.op);
          });

          if (overlay.ops.length) await viaOverlay.apply(overlay.ops, USER);
          expect(state(viaOverlay, prefix)).toEqual(state(direct, prefix));
        }),
      {
        numRuns: 100,
        // One sequence in which every operation type succeeds, so the property is never met on errors alone.
        examples: [
          [
            [
              { op: "CreateEntity", id: "RUN-e4", tables: ["lighting_fixtures"], fields: { channel: 3 } },
              { op: "SetField", id: "RUN-e1", field: "channel", value: 4 },
              { op: "ApplyCRDT", id: "RUN-e1", field: "notes", edit: { kind: "text.insert", index: 0, text: "Q" } },
              { op: "AddToTable", id: "RUN-e4", table: "contacts", membership: {} },
              { op: "RemoveFromTable", id: "RUN-e4", table: "contacts" },
              { op: "AttachFacet", id: "RUN-e2", facet: "sm.Contact", fields: { name: "Cy" } },
              { op: "DetachFacet", id: "RUN-e2", facet: "sm.Contact", preserve: true },
              { op: "CreateEdge", edgeId: "RUN-x3", type: "scene", source: "RUN-e2", target: "RUN-e4" },
              { op: "DeleteEdge", edgeId: "RUN-x3" },
              { op: "CreateOrderedEdge", edgeId: "RUN-x4", type: "in_cue_list", source: "RUN-e4", target: "RUN-e0", after: "RUN-x0" },
              { op: "MoveOrderedEdge", edgeId: "RUN-x4", before: "RUN-x0" },
              { op: "SplitEntity", source: "RUN-e3", distribution: { "RUN-s0": ["sm.Contact"] } },
              { op: "MergeEntities", into: "RUN-e1", from: "RUN-e4", resolution: { channel: 3 } },
              { op: "DeleteEntity", id: "RUN-e2" },
            ],
          ],
        ],
      },
    );
    expect([...applied].sort()).toEqual(
      ["AddToTable", "ApplyCRDT", "AttachFacet", "CreateEdge", "CreateEntity", "CreateOrderedEdge", "DeleteEdge", "DeleteEntity", "DetachFacet", "MergeEntities", "MoveOrderedEdge", "RemoveFromTable", "SetField", "SplitEntity"].sort(),
    );
  }, 240_000);
});
