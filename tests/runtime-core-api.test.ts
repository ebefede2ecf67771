import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USER, openKit } from "./fixtures/runtime-kit/kit.ts";
import type { Kit } from "./fixtures/runtime-kit/kit.ts";

let kit: Kit;
beforeAll(async () => {
  kit = await openKit();
});
afterAll(() => kit.close());

const ok = (r: { status: string; error?: unknown }): void => {
  expect(r.error).toBeUndefined();
  expect(r.status).toBe("ok");
};

describe("scripts query the workspace and read fields with their types", () => {
  it("core.query / query_one / get_field / schema introspection", async () => {
    await kit.store.apply(
      [
        { op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: "Q1", channel: 42, intensity: 2, tags: ["a"] } },
        { op: "CreateEntity", tables: ["contacts"], fields: { name: "Jane", email: "jane@example.com" } },
      ],
      USER,
    );
    const r = await kit.lua(`
      local fx = core.query_one("table == 'lighting_fixtures' AND channel == ?", 42)
      assert(fx and fx.unit_number == "Q1", "query_one by channel")
      assert(fx["lighting.fixture.channel"] == 42, "full key")
      assert(math.type(fx.channel) == "integer", "int stays integer")
      assert(math.type(fx.intensity) == "float" and fx.intensity == 2.0, "float stays float")
      assert(fx.tags[1] == "a", "list as array")
      assert(core.get_field(fx.id, "lighting.channel") == 42, "get_field by module.field")
      assert(math.type(core.get_field(fx.id, "intensity")) == "float")
      local contacts = core.query("table == 'contacts'")
      assert(#contacts == 1 and contacts[1].name == "Jane")
      assert(core.query_one("table == 'contacts' AND name == ?", "Nobody") == nil)
      local tables = core.schema.list_tables()
      assert(table.concat(tables, ",") == "contacts,lighting_cues,lighting_fixtures,scenes,sm_fixtures", table.concat(tables, ","))
      local fields = core.schema.get_fields("contacts")
      assert(#fields == 4 and fields[1].key == "sm.contact.name" and fields[1].type == "string")
    `);
    ok(r);
  });
});

describe("every mutation of the core API works in a session and lands in canonical on commit", () => {
  it("entities, fields, tables, facets, edges, text and list edits, ordered edges, merge, split", async () => {
    const r = await kit.lua(`
      local e = core.create_entity({ table = "lighting_fixtures", fields = { unit_number = "M1", channel = 1, position = "FOH", notes = "hello", tags = {} } })
      assert(e.id and e.unit_number == "M1")
      core.set_field(e.id, "channel", 7)
      assert(core.get_field(e.id, "channel") == 7)
      core.set_field(e, "dimmer", "3-1")
      core.set_field(e.id, "position", nil)
      assert(core.get_field(e.id, "position") == nil)
      core.text.insert_at(e.id, "notes", 0, "Intro: ")
      core.text.replace_range(e.id, "notes", 7, 12, "HELLO")
      core.text.delete_range(e.id, "notes", 0, 1)
      assert(core.get_field(e.id, "notes") == "ntro: HELLO", core.get_field(e.id, "notes"))
      core.list.append(e.id, "tags", "review")
      core.list.insert(e.id, "tags", 0, "urgent")
      core.list.append(e.id, "tags", "done")
      core.list.remove(e.id, "tags", "done")
      core.list.remove_at(e.id, "tags", 0)
      assert(table.concat(core.get_field(e.id, "tags"), ",") == "review")
      core.add_to_table(e.id, "sm_fixtures", { department = "lighting" })
      assert(#core.query("table == 'sm_fixtures'") == 1)
      core.remove_from_table(e.id, "sm_fixtures")
      assert(#core.query("table == 'sm_fixtures'") == 0)
      core.attach_facet(e.id, "sm.Contact", { name = "Rig" })
      assert(core.get_field(e.id, "sm.name") == "Rig")
      core.detach_facet(e.id, "sm.Contact", { preserve = true })

      local pos = core.create_entity({ table = "scenes", fields = { name = "FOH bar" } })
      local edge = core.create_edge("mounted_at", e.id, pos.id, { unit_number = "M1" })
      assert(edge.source_id == e.id and edge.target_id == pos.id and edge.properties.unit_number == "M1")
      local tmp = core.create_edge("mounted_at", pos.id, e.id)
      core.delete_edge(tmp.id)

      local list = core.create_entity({ table = "scenes", fields = { name = "Cue list" } })
      local c1 = core.create_entity({ table = "lighting_cues", fields = { number = 1 } })
      local c2 = core.create_entity({ table = "lighting_cues", fields = { number = 2 } })
      local c3 = core.create_entity({ table = "lighting_cues", fields = { number = 3 } })
      local e1 = core.create_ordered_edge("in_cue_list", c1.id, list.id, { properties = { call_text = "GO" } })
      local e3 = core.create_ordered_edge("in_cue_list", c3.id, list.id, { after = e1.id })
      local e2 = core.create_ordered_edge("in_cue_list", c2.id, list.id, { before = e3.id, properties = { call_text = "STANDBY" } })
      local order = {}
      for _, x in ipairs(core.query_ordered_edges(list.id, "in_cue_list")) do order[#order + 1] = string.format("%g", core.get_field(x.source_id, "number")) end
      assert(table.concat(order, ",") == "1,2,3", table.concat(order, ","))
      core.move_ordered_edge(e1.id, { after = e3.id })
      order = {}
      for _, x in ipairs(core.query_ordered_edges(list.id, "in_cue_list")) do order[#order + 1] = string.format("%g", core.get_field(x.source_id, "number")) end
      assert(table.concat(order, ",") == "2,3,1", table.concat(order, ","))

      local a = core.create_entity({ table = "contacts", fields = { name = "Jane", email = "j@x" } })
      local b = core.create_entity({ table = "contacts", fields = { name = "J. Doe", phone = "555" } })
      local merged = core.merge_entities(a.id, b.id, { name = "Jane Doe" })
      assert(merged.name == "Jane Doe" and merged.phone == "555")
      assert(core.query_one("table == 'contacts' AND name == ?", "J. Doe") == nil)

      local both = core.create_entity({ facets = { "lighting.Fixture", "sm.Contact" }, fields = { unit_number = "S1", name = "Split me" } })
      local ids = core.split_entity(both.id, { facet_distribution = { ["$new1"] = { "sm.Contact" } } })
      assert(#ids == 1 and core.get_field(ids[1], "name") == "Split me")

      local doomed = core.create_entity({ table = "contacts", fields = { name = "Temp" } })
      core.delete_entity(doomed.id)
      assert(core.query_one("table == 'contacts' AND name == ?", "Temp") == nil)

      local ops = core.overlay.operations()
      assert(#ops > 30, #ops)
      assert(core.commit() == true)
      log.info(e.id, list.id, merged.id, ids[1])
    `);
    ok(r);
    const line = kit.events.filter((e) => e.type === "log" && e.runId === r.runId).at(-1);
    const [fx, list, jane, split] = (line?.type === "log" ? line.message : "").split("\t");
    const { store } = kit;
    expect(store.getField(fx, "channel")).toBe(7);
    expect(store.getField(fx, "dimmer")).toBe("3-1");
    expect(store.getField(fx, "position")).toBeNull();
    expect(store.getField(fx, "notes")).toBe("ntro: HELLO");
    expect(store.getField(fx, "tags")).toEqual(["review"]);
    expect(store.facetsOf(fx)).not.toContain("sm.Contact");
    expect(store.edgesOf(fx, { type: "mounted_at" })).toHaveLength(1);
    const order = store.orderedEdges(list, "in_cue_list").map((e) => store.getField(e.source, "number"));
    expect(order).toEqual([2, 3, 1]);
    expect(store.getField(jane, "name")).toBe("Jane Doe");
    expect(store.getField(jane, "phone")).toBe("555");
    expect(store.getField(split, "name")).toBe("Split me");
    expect(store.queryIds("table == 'contacts' AND name == 'Temp'")).toEqual([]);
    expect(r.bundles).toBe(1);
    expect(r.sessionStatus).toBe("committed");
  });

  it("core.discard drops the overlay", async () => {
    const r = await kit.lua(`
      local e = core.create_entity({ table = "contacts", fields = { name = "Discarded" } })
      assert(core.discard() == true)
      assert(#core.overlay.operations() == 0)
    `);
    ok(r);
    expect(kit.store.queryIds("table == 'contacts' AND name == 'Discarded'")).toEqual([]);
  });
});

describe("a script sees the workspace's open conflicts and resolves one", () => {
  it("core.get_conflicts lists a real conflict with its values; core.resolve_conflict settles it in canonical", async () => {
    // Merging two contacts that both hold an email leaves a conflict record on the survivor.
    const a = (await kit.store.apply([{ op: "CreateEntity", tables: ["contacts"], fields: { name: "Conflicted", email: "first@x" } }], USER)).results[0]?.id as string;
    const b = (await kit.store.apply([{ op: "CreateEntity", tables: ["contacts"], fields: { email: "second@x" } }], USER)).results[0]?.id as string;
    await kit.store.apply([{ op: "MergeEntities", into: a, from: b }], USER);
    const open = kit.store.conflicts().filter((c) => c.entity === a && c.field === "sm.contact.email");
    expect(open).toHaveLength(1);

    const r = await kit.lua(
      `
      local mine
      for _, c in ipairs(core.get_conflicts()) do
        if c.entity == args.entity and c.field == "sm.contact.email" then mine = c end
      end
      assert(mine, "the conflict on the survivor's email is listed")
      local seen = {}
      for _, v in ipairs(mine.values) do seen[#seen + 1] = v.value end
      table.sort(seen)
      log.info(mine.id, table.concat(seen, ","))
      core.resolve_conflict(mine.id, "chosen@x")
    `,
      { executionMode: "autoCommit" },
      { args: { entity: a } },
    );
    ok(r);
    const line = kit.events.find((e) => e.type === "log" && e.runId === r.runId);
    expect(line?.type === "log" ? line.message : "").toBe(`${open[0].id}\tfirst@x,second@x`);
    expect(kit.store.getField(a, "email")).toBe("chosen@x");
    expect(kit.store.conflict(open[0].id)).toBeFalsy();
    expect(kit.store.conflicts().some((c) => c.entity === a && c.field === "sm.contact.email")).toBe(false);
  });
});

describe("autoCommit runs write one bundle per mutation call", () => {
  it("each core call is its own bundle, stamped with the script's origin and chain", async () => {
    const before = (await kit.store.history({ limit: 1000 })).length;
    const r = await kit.lua(
      `
      local e = core.create_entity({ table = "contacts", fields = { name = "Auto" } })
      core.set_field(e.id, "email", "auto@x")
      core.set_field(e.id, "phone", "1")
      assert(core.get_field(e.id, "email") == "auto@x")
    `,
      { executionMode: "autoCommit" },
      { chain: { id: "chain-1", depth: 1, startedAt: 0 } },
    );
    ok(r);
    expect(r.bundles).toBe(3);
    const hist = await kit.store.history({ limit: 1000 });
    expect(hist.length - before).toBe(3);
    expect(hist[0].meta.origin).toMatchObject({ runId: r.runId, chain: { id: "chain-1", depth: 1 } });
    expect(r.sessionId).toBeUndefined();
  });
});

describe("context, args, json, logs and ui go through one events seam", () => {
  it("gives the trigger context, args, json round trips and every ui event", async () => {
    kit.answers.push(true, "42", "B");
    const r = await kit.lua(
      `
      assert(context.trigger_entity() == "e-1" and context.trigger_field() == "lighting.cue.status")
      assert(context.old_value() == "standby" and context.new_value() == "running" and context.user() == "sm")
      assert(type(context.hlc_time()) == "string" and context.cancelled() == false)
      assert(args.scene_id == "s-1" and args.dry_run == nil)
      local s = json.encode({ a = 1, b = { 1, 2.5, "x" }, c = true })
      assert(s == '{"a":1,"b":[1,2.5,"x"],"c":true}', s)
      local t = json.decode('{"n": 3, "f": 1.5, "s": "h\\\\u00e9", "l": [1, null, 3], "o": {}}')
      assert(math.type(t.n) == "integer" and t.f == 1.5 and t.s == "hé" and t.l[3] == 3)
      local cyc = {} cyc.self = cyc
      local ok1, e1 = pcall(json.encode, cyc)
      assert(not ok1 and e1.type == "InvalidOperation", tostring(e1))
      local ok2, e2 = pcall(json.decode, '{"a": ')
      assert(not ok2 and e2.type == "InvalidOperation" and e2.message:find("position"), tostring(e2))
      log.debug("d") log.info("i", 2) log.warn("w") log.error("e")
      print("printed")
      ui.toast("t") ui.toast.warn("tw") ui.toast.error("te")
      ui.progress.start("Working", { total = 2 }) ui.progress.update(1) ui.progress.complete()
      ui.navigate.to_view("contacts") ui.navigate.to_entity("e-1") ui.navigate.filter({ status = "active" }) ui.navigate.sort("name", "asc")
      assert(core.await(ui.dialog.confirm("Sure?")) == true)
      assert(core.await(ui.dialog.prompt("Cue number:")) == "42")
      assert(core.await(ui.dialog.select("Pick", { "A", "B" })) == "B")
    `,
      {},
      {
        args: { scene_id: "s-1" },
        user: "sm",
        context: { trigger_entity: "e-1", trigger_field: "lighting.cue.status", old_value: "standby", new_value: "running" },
      },
    );
    ok(r);
    const mine = kit.events.filter((e) => "runId" in e && e.runId === r.runId);
    const logs = mine.flatMap((e) => (e.type === "log" ? [`${e.level}:${e.message}`] : []));
    expect(logs).toEqual(["debug:d", "info:i\t2", "warn:w", "error:e", "info:printed"]);
    expect(mine.flatMap((e) => (e.type === "toast" ? [`${e.level}:${e.message}`] : []))).toEqual(["info:t", "warn:tw", "error:te"]);
    expect(mine.flatMap((e) => (e.type === "progress" ? [`${e.phase}:${e.current}/${e.total}`] : []))).toEqual(["start:0/2", "update:1/2", "complete:2/2"]);
    expect(mine.flatMap((e) => (e.type === "navigate" ? [e.action] : []))).toEqual(["to_view", "to_entity", "filter", "sort"]);
    expect(kit.dialogs.slice(-3).map((d) => d.kind)).toEqual(["confirm", "prompt", "select"]);
    const rec = await kit.runtime.runRecord(r.runId);
    expect(rec?.inputs.map((i) => i.value)).toEqual([true, "42", "B"]);
  });
});
