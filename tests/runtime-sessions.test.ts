import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USER, openKit } from "./fixtures/runtime-kit/kit.ts";
import type { Kit } from "./fixtures/runtime-kit/kit.ts";

let kit: Kit;
beforeAll(async () => {
  kit = await openKit();
});
afterAll(() => kit.close());

async function fixture(unit: string, channel: number): Promise<string> {
  return (await kit.store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: unit, channel } }], USER)).results[0]?.id as string;
}

describe("a session overlay is visible to the script and invisible to canonical until commit", () => {
  it("the script's queries see its creations, changes and removals (equality lookups included)", async () => {
    const f = await fixture("V1", 101);
    const r = await kit.lua(`
      local f = core.query_one("table == 'lighting_fixtures' AND unit_number == 'V1'")
      core.set_field(f.id, "channel", 202)
      assert(core.query_one("table == 'lighting_fixtures' AND channel == ?", 101) == nil, "old value gone")
      assert(core.query_one("table == 'lighting_fixtures' AND channel == ?", 202).id == f.id, "new value indexed")
      local n = core.create_entity({ table = "lighting_fixtures", fields = { unit_number = "V2", channel = 303 } })
      assert(core.query_one("table == 'lighting_fixtures' AND channel == 303").id == n.id)
      assert(#core.query("table == 'lighting_fixtures' AND channel > 200") == 2)
      core.remove_from_table(n.id, "lighting_fixtures")
      assert(core.query_one("table == 'lighting_fixtures' AND unit_number == 'V2'") == nil)
    `);
    expect(r.error).toBeUndefined();
    expect(kit.store.getField(f, "channel")).toBe(101);
    expect(kit.store.queryIds("table == 'lighting_fixtures' AND unit_number == 'V2'")).toEqual([]);
    const streamed = kit.events.filter((e) => e.type === "overlay.ops" && e.runId === r.runId);
    expect(streamed.reduce((n, e) => n + (e.type === "overlay.ops" ? e.ops.length : 0), 0)).toBe(3);
    await kit.runtime.commitSession(r.sessionId as string);
    expect(kit.store.getField(f, "channel")).toBe(202);
  });
});

describe("an open session survives a daemon restart", () => {
  it("is listed with its ops after the store is reopened, and can then be committed", async () => {
    const f = await fixture("P1", 1);
    const r = await kit.lua(`
      local f = core.query_one("table == 'lighting_fixtures' AND unit_number == 'P1'")
      for i = 1, 1200 do core.set_field(f.id, "channel", i) end
      core.create_entity({ table = "contacts", fields = { name = "Persisted" } })
    `);
    expect(r.error).toBeUndefined();
    await kit.reopen();
    const open = (await kit.runtime.sessions()).find((s) => s.id === r.sessionId);
    expect(open?.ops).toHaveLength(1201);
    expect(open?.ops.at(-1)).toMatchObject({ op: "CreateEntity", tables: ["contacts"] });
    expect((await kit.runtime.commitSession(r.sessionId as string)).status).toBe("committed");
    expect(kit.store.getField(f, "channel")).toBe(1200);
    expect(kit.store.queryIds("table == 'contacts' AND name == 'Persisted'")).toHaveLength(1);
    expect((await kit.runtime.sessions()).find((s) => s.id === r.sessionId)).toBeUndefined();
  });
});

describe("snapshot isolation reads canonical as of the start; live reads what canonical holds now", () => {
  for (const isolation of ["snapshot", "live"] as const) {
    it(`${isolation}: a change made while the script waits in core.await`, async () => {
      const f = await fixture(`I-${isolation}`, 10);
      kit.onAsk = async () => {
        await kit.store.apply([{ op: "SetField", id: f, field: "channel", value: 99 }], USER);
        await kit.store.apply([{ op: "CreateEntity", tables: ["contacts"], fields: { name: `Late-${isolation}` } }], USER);
        return true;
      };
      const r = await kit.lua(
        `
        local id = args.id
        assert(core.get_field(id, "channel") == 10)
        core.await(ui.dialog.confirm("go?"))
        local q = core.query_one("table == 'lighting_fixtures' AND unit_number == ?", args.unit)
        local live = core.query_live("table == 'contacts' AND name == ?", args.late)
        log.info(q.channel, core.get_field(id, "channel"), #live, #core.query("table == 'contacts' AND name == ?", args.late))
      `,
        { isolation },
        { args: { id: f, unit: `I-${isolation}`, late: `Late-${isolation}` } },
      );
      kit.onAsk = undefined;
      expect(r.error).toBeUndefined();
      const line = kit.events.filter((e) => e.type === "log" && e.runId === r.runId).at(-1);
      const msg = line?.type === "log" ? line.message : "";
      expect(msg).toBe(isolation === "snapshot" ? "10\t10\t1\t0" : "99\t99\t1\t1");
    });
  }
});

describe("commit conflicts wait for a person: per conflict or, above 100, in bulk", () => {
  it("a field canonical changed since the snapshot blocks the commit until resolved", async () => {
    const a = await fixture("C1", 1);
    const b = await fixture("C2", 2);
    kit.onAsk = async () => {
      await kit.store.apply([{ op: "SetField", id: a, field: "channel", value: 500 }], { actor: { kind: "user", name: "lx-op" } });
      await kit.store.apply([{ op: "SetField", id: b, field: "channel", value: 600 }], USER);
      return true;
    };
    const r = await kit.lua(
      `
      core.set_field(args.a, "channel", 11)
      core.set_field(args.b, "channel", 22)
      core.create_entity({ table = "contacts", fields = { name = "With conflicts" } })
      core.await(ui.dialog.confirm("wait"))
      local ok, conflicts = core.commit()
      assert(ok == false and #conflicts == 2, "the script cannot resolve them")
      log.info(conflicts[1].field, conflicts[1].canonicalValue, conflicts[1].scriptValue)
    `,
      {},
      { args: { a, b } },
    );
    kit.onAsk = undefined;
    expect(r.error).toBeUndefined();
    expect(r.sessionStatus).toBe("open");
    const first = await kit.runtime.commitSession(r.sessionId as string);
    expect(first.status).toBe("conflicts");
    if (first.status !== "conflicts") return;
    const ca = first.conflicts.find((c) => c.entity === a);
    expect(ca).toMatchObject({ field: "lighting.fixture.channel", scriptValue: 11, canonicalValue: 500, snapshotValue: 1 });
    expect(ca?.changedBy?.actor).toEqual({ kind: "user", name: "lx-op" });
    expect(kit.store.queryIds("table == 'contacts' AND name == 'With conflicts'")).toEqual([]);
    await kit.runtime.resolveSessionConflict(r.sessionId as string, `${a}:lighting.fixture.channel`, "script");
    expect((await kit.runtime.commitSession(r.sessionId as string)).status).toBe("conflicts");
    await kit.runtime.resolveSessionConflict(r.sessionId as string, `${b}:lighting.fixture.channel`, "canonical");
    // Every conflict has its choice: nothing is left for a bulk choice to settle.
    await expect(kit.runtime.resolveSessionBulk(r.sessionId as string, "script")).rejects.toThrow(/has no open conflict to resolve/);
    const done = await kit.runtime.commitSession(r.sessionId as string);
    expect(done.status).toBe("committed");
    expect(kit.store.getField(a, "channel")).toBe(11);
    expect(kit.store.getField(b, "channel")).toBe(600);
    expect(kit.store.queryIds("table == 'contacts' AND name == 'With conflicts'")).toHaveLength(1);
  });

  it("more than 100 conflicts are resolved with one choice", async () => {
    const ids: string[] = [];
    const ops = Array.from({ length: 120 }, (_, i) => ({ op: "CreateEntity" as const, tables: ["lighting_cues"], fields: { number: i, label: "bulk" } }));
    for (const res of (await kit.store.apply(ops, USER)).results) ids.push(res?.id as string);
    kit.onAsk = async () => {
      await kit.store.apply(ids.map((id) => ({ op: "SetField" as const, id, field: "number", value: 9000 })), USER);
      return true;
    };
    const r = await kit.lua(`
      local cues = core.query("table == 'lighting_cues' AND label == 'bulk'")
      for _, c in ipairs(cues) do core.set_field(c.id, "number", c.number + 1) end
      core.await(ui.dialog.confirm("wait"))
    `);
    kit.onAsk = undefined;
    expect(r.error).toBeUndefined();
    const c = await kit.runtime.commitSession(r.sessionId as string);
    expect(c.status === "conflicts" && c.bulk && c.conflicts.length).toBe(120);
    expect(await kit.runtime.resolveSessionBulk(r.sessionId as string, "canonical")).toBe(120);
    expect((await kit.runtime.commitSession(r.sessionId as string)).status).toBe("committed");
    expect(ids.map((id) => kit.store.getField(id, "number"))).toEqual(Array(120).fill(9000));
  });
});
