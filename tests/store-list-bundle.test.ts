// A bundle that reads or edits a list field is still one bundle: one change with its metadata,
// durable before it is acknowledged. (Automerge's materialize commits an open transaction; a
// list read that used it split the bundle and left its first half unrecorded and not on disk.)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WorkspaceStore, levelPersistence } from "../daemon/crdt/index.ts";
import { USER, exampleSchema } from "./fixtures/runtime-kit/kit.ts";

const dir = mkdtempSync(path.join(tmpdir(), "openprod-list-bundle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a bundle touching list fields stays one durable bundle", () => {
  it("set, edit and remove on a list in one bundle: one hash, in history, and all of it after a restart", async () => {
    const schema = await exampleSchema();
    const open = (): Promise<WorkspaceStore> => WorkspaceStore.open({ persistence: levelPersistence({ dir: path.join(dir, "store") }), schema, workspaceId: "ws", peerId: "p" });
    let store = await open();
    const made = await store.apply([{ op: "CreateEntity", id: "fx", tables: ["lighting_fixtures"], fields: { tags: ["a", "b"] } }], USER);
    expect(made.hash).not.toBeNull();
    const r = await store.apply(
      [
        { op: "SetField", id: "fx", field: "channel", value: 5 },
        { op: "ApplyCRDT", id: "fx", field: "tags", edit: { kind: "list.remove", value: "a" } },
        { op: "ApplyCRDT", id: "fx", field: "tags", edit: { kind: "list.append", value: "c" } },
        { op: "SetField", id: "fx", field: "dimmer", value: "D1" },
      ],
      USER,
    );
    expect(r.hash).not.toBeNull();
    expect(r.changes.filter((c) => c.kind === "field").map((c) => c.field)).toEqual(["lighting.fixture.channel", "lighting.fixture.tags", "lighting.fixture.tags", "lighting.fixture.dimmer"]);
    expect((await store.history({ entity: "fx" }))[0]).toMatchObject({ hash: r.hash });
    await store.close();
    store = await open();
    expect(store.getEntity("fx").fields).toMatchObject({ "lighting.fixture.channel": 5, "lighting.fixture.tags": ["b", "c"], "lighting.fixture.dimmer": "D1" });
    await store.close();
  });
});
