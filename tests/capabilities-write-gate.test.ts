// Every operation a script can make passes one write gate: without a grant that covers what the
// operation writes it is refused with PermissionDenied and nothing is written, in autoCommit mode
// and in a session (at the call, and again when the session is committed).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CapabilitySet, parseCapability } from "../daemon/scripts/capabilities/index.ts";
import { USER, openKit } from "./fixtures/runtime-kit/kit.ts";
import type { Kit } from "./fixtures/runtime-kit/kit.ts";

let kit: Kit;
let grant: CapabilitySet = CapabilitySet.none;
const set = (...caps: string[]): CapabilitySet => new CapabilitySet(caps.map(parseCapability));

beforeAll(async () => {
  kit = await openKit({ capabilities: () => grant });
});
afterAll(async () => {
  await kit.close();
});

interface Rig {
  f1: string;
  f2: string;
  scene: string;
  list: string;
  cue1: string;
  cue2: string;
  cue3: string;
  oe1: string;
  oe2: string;
  mount: string;
  conflict: string;
}

/** A small rig made by a person: fixtures, a scene, a cue list with two cues, and a merge clash to resolve. */
async function rig(): Promise<Rig> {
  const mk = async (table: string, fields: Record<string, number | string>): Promise<string> =>
    (await kit.store.apply([{ op: "CreateEntity", tables: [table], fields }], USER)).results[0]?.id as string;
  const f1 = await mk("lighting_fixtures", { channel: 1 });
  const f2 = await mk("lighting_fixtures", { channel: 2 });
  const scene = await mk("scenes", { name: "Act 1" });
  const list = await mk("scenes", { name: "Main list" });
  const cue1 = await mk("lighting_cues", { number: 1 });
  const cue2 = await mk("lighting_cues", { number: 2 });
  const cue3 = await mk("lighting_cues", { number: 3 });
  const edges = await kit.store.apply(
    [
      { op: "CreateOrderedEdge", type: "in_cue_list", source: cue1, target: list },
      { op: "CreateOrderedEdge", type: "in_cue_list", source: cue2, target: list },
      { op: "CreateEdge", type: "mounted_at", source: f1, target: scene },
    ],
    USER,
  );
  const [oe1, oe2, mount] = edges.results.map((r) => r?.edgeId as string);
  // Two fixtures merged with different channels and no resolution: a clash a script may resolve.
  const a = await mk("lighting_fixtures", { channel: 10 });
  const b = await mk("lighting_fixtures", { channel: 11 });
  await kit.store.apply([{ op: "MergeEntities", into: a, from: b }], USER);
  const conflict = kit.store.conflicts().find((c) => c.entity === a)?.id as string;
  expect(conflict).toBeDefined();
  return { f1, f2, scene, list, cue1, cue2, cue3, oe1, oe2, mount, conflict };
}

/** Each operation type, the Lua that makes it, and the grant that allows it. */
const OPERATIONS: { op: string; lua: string; right: string }[] = [
  { op: "CreateEntity", lua: `core.create_entity({ table = "lighting_fixtures", fields = { channel = 5 } })`, right: "data.write:lighting.*" },
  { op: "CreateEntity (no fields)", lua: `core.create_entity({ table = "lighting_fixtures" })`, right: "data.write:lighting.Fixture" },
  { op: "CreateEntity (bare)", lua: `core.create_entity({})`, right: "data.write:*" },
  { op: "DeleteEntity", lua: `core.delete_entity(args.f2)`, right: "data.write:lighting.*" },
  { op: "SetField", lua: `core.set_field(args.f1, "channel", 9)`, right: "data.write:lighting.fixture.channel" },
  { op: "ApplyCRDT", lua: `core.text.insert_at(args.f1, "notes", 0, "hi")`, right: "data.write:lighting.fixture.notes" },
  { op: "AddToTable", lua: `core.add_to_table(args.scene, "lighting_fixtures")`, right: "data.write:lighting.lighting_fixtures" },
  { op: "RemoveFromTable", lua: `core.remove_from_table(args.f1, "lighting_fixtures")`, right: "data.write:lighting.Fixture" },
  { op: "AttachFacet", lua: `core.attach_facet(args.scene, "lighting.Fixture", { channel = 3 })`, right: "data.write:lighting.Fixture" },
  { op: "DetachFacet", lua: `core.detach_facet(args.f1, "lighting.Fixture")`, right: "data.write:lighting.Fixture" },
  { op: "CreateEdge", lua: `core.create_edge("mounted_at", args.f2, args.scene)`, right: "data.write:lighting.mounted_at" },
  { op: "DeleteEdge", lua: `core.delete_edge(args.mount)`, right: "data.write:lighting.mounted_at" },
  { op: "CreateOrderedEdge", lua: `core.create_ordered_edge("in_cue_list", args.cue3, args.list)`, right: "data.write:lighting.in_cue_list" },
  { op: "MoveOrderedEdge", lua: `core.move_ordered_edge(args.oe2, { before = args.oe1 })`, right: "data.write:lighting.in_cue_list" },
  { op: "MergeEntities", lua: `core.merge_entities(args.f1, args.f2, { channel = 1 })`, right: "data.write:lighting.*" },
  { op: "SplitEntity", lua: `core.split_entity(args.f1, { facet_distribution = { ["$new1"] = { "lighting.Fixture" } } })`, right: "data.write:lighting.*" },
  { op: "ResolveConflict", lua: `core.resolve_conflict(args.conflict, 7)`, right: "data.write:lighting.fixture.channel" },
];

const GRANTS: { name: string; caps: (right: string) => string[]; allowed: boolean }[] = [
  { name: "no grant", caps: () => [], allowed: false },
  { name: "a grant for another module", caps: () => ["data.write:sm.*"], allowed: false },
  { name: "the right grant", caps: (right) => [right], allowed: true },
];

describe("every operation type passes the write gate, in autoCommit and in a session", () => {
  for (const mode of ["autoCommit", "session"] as const) {
    for (const o of OPERATIONS) {
      for (const g of GRANTS) {
        it(`${o.op} with ${g.name} in ${mode} mode is ${g.allowed ? "applied" : "refused with nothing written"}`, async () => {
          const r0 = await rig();
          grant = set(...g.caps(o.right));
          const before = kit.store.heads();
          const commit = mode === "session" ? "\ncore.commit()" : "";
          const r = await kit.lua(`${o.lua}${commit}`, { executionMode: mode }, { args: { ...r0 } });
          if (g.allowed) {
            expect(r.error).toBeUndefined();
            expect(r.status).toBe("ok");
            expect(kit.store.heads()).not.toEqual(before);
          } else {
            expect(r.status).toBe("error");
            expect(r.error).toMatchObject({ type: "PermissionDenied" });
            expect(r.error?.message).toMatch(/^script "t\d+": \w+ on entity \S+ writes .*: needs capability "data\.write:/);
            expect(kit.store.heads()).toEqual(before);
            if (mode === "session") {
              const session = (await kit.runtime.sessions()).find((s) => s.id === r.sessionId);
              expect(session?.ops ?? []).toEqual([]);
            }
          }
        });
      }
    }
  }
});

describe("a refusal names the script, the operation, the entity and the capability that would allow it", () => {
  it("deleting a fixture without a grant", async () => {
    const r0 = await rig();
    grant = set("data.write:sm.*");
    const r = await kit.lua(`core.delete_entity(args.f1)`, { executionMode: "autoCommit" }, { args: { ...r0 } });
    expect(r.error?.message).toMatch(new RegExp(`^script "t\\d+": DeleteEntity on entity ${r0.f1} writes facet lighting\\.Fixture: needs capability "data\\.write:lighting\\.Fixture" \\(or "data\\.write:lighting\\.\\*"\\)$`));
    expect(r.error).toMatchObject({ details: { operation: "DeleteEntity", entity: r0.f1, capability: "data.write:lighting.Fixture" } });
  });
});

describe("a grant narrowed between the run and the commit is honoured at commit", () => {
  it("a person's commit of a session whose script lost data.write is refused, and nothing reaches canonical", async () => {
    const r0 = await rig();
    grant = set("data.write:lighting.*");
    const r = await kit.lua(`core.set_field(args.f1, "channel", 42)`, { executionMode: "session" }, { args: { ...r0 } });
    expect(r.status).toBe("ok");
    expect(r.sessionStatus).toBe("open");
    grant = set("data.write:lighting.Cue");
    const before = kit.store.heads();
    await expect(kit.runtime.commitSession(r.sessionId as string)).rejects.toMatchObject({ code: "PermissionDenied" });
    expect(kit.store.heads()).toEqual(before);
    expect(kit.store.getField(r0.f1, "channel")).toBe(1);
    // Given back, the same session commits.
    grant = set("data.write:lighting.fixture.channel");
    await expect(kit.runtime.commitSession(r.sessionId as string)).resolves.toMatchObject({ status: "committed" });
    expect(kit.store.getField(r0.f1, "channel")).toBe(42);
  });
});

describe("the trigger cycle check sees the writes the gate allows", () => {
  it("a grant that lets a script detach, delete or merge a facet lists every field of it in the script's write set", async () => {
    const schema = kit.store.schema;
    const facetGrant = set("data.write:lighting.Cue");
    const cue = schema.facets.get("lighting.Cue");
    expect(cue).toBeDefined();
    expect(facetGrant.canWriteTarget({ kind: "facet", facet: "lighting.Cue", entity: "x" }, schema)).toBe(true);
    expect([...facetGrant.writeSet(schema)].sort()).toEqual(cue?.fields.map((f) => f.key).sort());
    // A table or edge-type grant lets a script join tables or move edges, which writes no field.
    const tableGrant = set("data.write:lighting.lighting_cues", "data.write:lighting.in_cue_list");
    expect(tableGrant.canWriteTarget({ kind: "table", table: "lighting_cues", entity: "x" }, schema)).toBe(true);
    expect(tableGrant.canWriteTarget({ kind: "facet", facet: "lighting.Cue", entity: "x" }, schema)).toBe(false);
    expect([...tableGrant.writeSet(schema)]).toEqual([]);
  });
});
