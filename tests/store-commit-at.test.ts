import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import { USER, openTestStore, tempDir } from "./helpers/store-fixture.ts";
import { createFixture, scriptInput } from "./fixtures/store-pair.ts";

let tmp: { dir: string; cleanup: () => void };
let store: WorkspaceStore;
beforeEach(async () => {
  tmp = tempDir("openprod-store-commitat-");
  store = await openTestStore(tmp.dir);
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

describe("an overlay committed at its snapshot conflicts only where canonical moved on", () => {
  it("a field canonical changed since the snapshot becomes a conflict; the others apply cleanly", async () => {
    const id = await createFixture(store, { unit_number: "A1", channel: 1, position: "FOH" });
    const snapshot = store.heads();
    const canonical = await store.apply([{ op: "SetField", id, field: "channel", value: 2 }], USER);
    const r = await store.commitAt(
      snapshot,
      [
        { op: "SetField", id, field: "channel", value: 3 },
        { op: "SetField", id, field: "position", value: "1st Electric" },
      ],
      scriptInput("run-1"),
    );
    expect(r.hash).not.toBeNull();
    expect(r.conflicts).toHaveLength(1);
    const [c] = r.conflicts;
    expect(c).toMatchObject({ kind: "concurrent", entity: id, field: "lighting.fixture.channel" });
    const byValue = new Map(c.values.map((v) => [v.value, v]));
    expect(byValue.get(2)).toMatchObject({ bundle: canonical.hash, hlc: canonical.hlc, actor: USER.actor });
    expect(byValue.get(3)).toMatchObject({ bundle: r.hash, changeSet: "run-1", actor: { kind: "script", runId: "run-1" } });
    expect(store.conflicts().map((x) => x.id)).toEqual([c.id]);
    // Latest HLC: the commit, made after the canonical write.
    expect(store.getField(id, "channel")).toBe(3);
    expect(store.getField(id, "position")).toBe("1st Electric");
    expect(store.queryIds("table == 'lighting_fixtures' AND position == '1st Electric'")).toEqual([id]);
    await store.resolveConflict(c.id, 2, USER);
    expect(store.conflicts()).toEqual([]);
    expect(store.getField(id, "channel")).toBe(2);
  });

  it("the commit is one bundle in history and its conflict survives a restart", async () => {
    const id = await createFixture(store, { unit_number: "A1", channel: 1 });
    const snapshot = store.heads();
    await store.apply([{ op: "SetField", id, field: "channel", value: 2 }], USER);
    const r = await store.commitAt(snapshot, [{ op: "SetField", id, field: "channel", value: 3 }], scriptInput("run-2"));
    const [latest] = await store.history({ limit: 1 });
    expect(latest.hash).toBe(r.hash);
    const conflicts = store.conflicts();
    await store.close();
    store = await openTestStore(tmp.dir);
    expect(store.conflicts()).toEqual(conflicts);
    expect(store.hasHeads([r.hash as string])).toBe(true);
  });

  it("commitAt at the current heads is a plain apply", async () => {
    const id = await createFixture(store, { unit_number: "A1", channel: 1 });
    const r = await store.commitAt(store.heads(), [{ op: "SetField", id, field: "channel", value: 5 }], USER);
    expect(r.conflicts).toEqual([]);
    expect(store.heads()).toEqual([r.hash]);
    expect(store.getField(id, "channel")).toBe(5);
    expect(store.conflicts()).toEqual([]);
  });

  it("a commit whose ops fail leaves canonical untouched", async () => {
    const id = await createFixture(store, { unit_number: "A1", channel: 1 });
    const snapshot = store.heads();
    await store.apply([{ op: "SetField", id, field: "channel", value: 2 }], USER);
    const heads = store.heads();
    await expect(
      store.commitAt(snapshot, [{ op: "SetField", id, field: "position", value: "X" }, { op: "SetField", id, field: "channel", value: "bad" }], USER),
    ).rejects.toThrow(/integer/);
    expect(store.heads()).toEqual(heads);
    expect(store.getField(id, "position")).toBeNull();
    await store.apply([{ op: "SetField", id, field: "channel", value: 4 }], USER);
    expect(store.getField(id, "channel")).toBe(4);
  });
});
