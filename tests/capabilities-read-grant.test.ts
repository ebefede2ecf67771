// A script that declares data.read sees nothing its grant does not cover: not through the rows
// it gets, and not through a side channel such as filtering or ordering on a hidden field.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CapabilitySet, parseCapability } from "../daemon/scripts/capabilities/index.ts";
import { USER, openKit } from "./fixtures/runtime-kit/kit.ts";
import type { Kit } from "./fixtures/runtime-kit/kit.ts";

let kit: Kit;
let grant: CapabilitySet = CapabilitySet.none;
const set = (...caps: string[]): CapabilitySet => new CapabilitySet(caps.map(parseCapability));
let contact = "";
let fixture = "";

beforeAll(async () => {
  kit = await openKit({ capabilities: () => grant });
  const r = await kit.store.apply(
    [
      { op: "CreateEntity", tables: ["contacts"], fields: { name: "Ada", email: "ada@example.org" } },
      { op: "CreateEntity", tables: ["lighting_fixtures"], fields: { channel: 7 } },
    ],
    USER,
  );
  contact = r.results[0]?.id as string;
  fixture = r.results[1]?.id as string;
  await kit.store.apply([{ op: "CreateEdge", type: "mounted_at", source: fixture, target: contact, properties: { note: "secret" } }], USER);
});
afterAll(async () => {
  await kit.close();
});

const denied = async (lua: string): Promise<string> => {
  const r = await kit.lua(lua, { executionMode: "autoCommit" });
  expect(r.status).toBe("error");
  expect(r.error).toMatchObject({ type: "PermissionDenied" });
  return r.error?.message ?? "";
};

describe("a query that mentions a field the grant does not cover is refused, naming the field", () => {
  it("the character-by-character extraction through WHERE email >= ? is refused at the first query", async () => {
    grant = set("data.read:lighting.*");
    const msg = await denied(`
      local guess = ""
      for i = 1, 3 do
        for c = 32, 126 do
          local rows = core.query("table == 'contacts' AND email >= ?", guess .. string.char(c))
          if #rows == 0 then guess = guess .. string.char(c - 1) break end
        end
      end
      log.info(guess)`);
    expect(msg).toContain('reading sm.contact.email needs capability "data.read:sm.contact.email" (or "data.read:sm.*")');
    expect(msg).toContain("email >= ?");
  });

  it("ORDER BY and IN are refused the same way", async () => {
    grant = set("data.read:lighting.*");
    expect(await denied(`core.query("table == 'contacts' ORDER BY email")`)).toContain("sm.contact.email");
    expect(await denied(`core.query("table == 'contacts' AND name IN ('Ada', 'Bob')")`)).toContain("sm.contact.name");
    expect(await denied(`core.query_one("email == ?", "ada@example.org")`)).toContain("sm.contact.email");
  });

  it("fields the grant covers still query as before, and rows leave the others out", async () => {
    grant = set("data.read:lighting.*");
    const r = await kit.lua(`
      local rows = core.query("table == 'lighting_fixtures' AND channel == 7")
      log.info(#rows, rows[1].channel)`, { executionMode: "autoCommit" });
    expect(r.error).toBeUndefined();
    const line = kit.events.filter((e) => e.type === "log" && e.runId === r.runId).map((e) => (e.type === "log" ? e.message : ""));
    expect(line).toEqual(["1\t7"]);
  });

  it("without a declared data.read, reads stay open (the documented default)", async () => {
    grant = set();
    const r = await kit.lua(`log.info(#core.query("table == 'contacts' AND email >= ?", "a"))`, { executionMode: "autoCommit" });
    expect(r.error).toBeUndefined();
  });
});

describe("conflicts, edges and the schema show only what the grant covers", () => {
  it("the schema lists only readable tables and fields", async () => {
    grant = set("data.read:sm.*");
    const r = await kit.lua(`
      local tables = core.schema.list_tables()
      local fields = core.schema.get_fields("contacts")
      local names = {}
      for _, f in ipairs(fields) do names[#names + 1] = f.name end
      log.info(table.concat(tables, ","), table.concat(names, ","))
      local ok, e = pcall(core.schema.get_fields, "lighting_fixtures")
      log.info(ok and #e or -1)`, { executionMode: "autoCommit" });
    expect(r.error).toBeUndefined();
    const lines = kit.events.filter((e) => e.type === "log" && e.runId === r.runId).map((e) => (e.type === "log" ? e.message : ""));
    expect(lines[0]).toBe("contacts,sm_fixtures\tname,email,phone,role");
    expect(lines[1]).toBe("0");
  });

  it("ordered-edge properties are hidden unless the grant covers the edge type", async () => {
    const made = await kit.store.apply(
      [
        { op: "CreateEntity", id: "read-cue", tables: ["lighting_cues"], fields: { number: 1 } },
        { op: "CreateEntity", id: "read-list", tables: ["scenes"], fields: { name: "list" } },
        { op: "CreateOrderedEdge", type: "in_cue_list", source: "read-cue", target: "read-list", properties: { note: "secret" } },
      ],
      USER,
    );
    expect(made.hash).not.toBeNull();
    const props = async (): Promise<string> => {
      const r = await kit.lua(`local e = core.query_ordered_edges("read-list", "in_cue_list")[1] log.info(e.properties.note or "hidden")`, { executionMode: "autoCommit" });
      expect(r.error).toBeUndefined();
      return kit.events.filter((e) => e.type === "log" && e.runId === r.runId).map((e) => (e.type === "log" ? e.message : ""))[0];
    };
    grant = set("data.read:sm.*");
    expect(await props()).toBe("hidden");
    grant = set("data.read:lighting.in_cue_list");
    expect(await props()).toBe("secret");
  });

  it("get_conflicts leaves out conflicts on fields the script may not read", async () => {
    const a = (await kit.store.apply([{ op: "CreateEntity", tables: ["contacts"], fields: { email: "a@x" } }], USER)).results[0]?.id as string;
    const b = (await kit.store.apply([{ op: "CreateEntity", tables: ["contacts"], fields: { email: "b@x" } }], USER)).results[0]?.id as string;
    await kit.store.apply([{ op: "MergeEntities", into: a, from: b }], USER);
    expect(kit.store.conflicts().some((c) => c.field === "sm.contact.email")).toBe(true);
    grant = set("data.read:lighting.*");
    const hidden = await kit.lua(`log.info(#core.get_conflicts())`, { executionMode: "autoCommit" });
    grant = set("data.read:sm.*");
    const shown = await kit.lua(`log.info(#core.get_conflicts())`, { executionMode: "autoCommit" });
    const count = (runId: string): number => {
      const e = kit.events.find((x) => x.type === "log" && x.runId === runId);
      return e?.type === "log" ? Number(e.message) : NaN;
    };
    expect(count(hidden.runId)).toBe(0);
    expect(count(shown.runId)).toBeGreaterThan(0);
  });
});
