// The runtime's side records have small typed stores that own their keys and formats (session
// log, run records, script sources); the records they write are the ones the daemon has always
// written, so a store written before them reads back the same.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import type { Operation } from "../daemon/crdt/operations.ts";
import { SessionLog } from "../daemon/scripts/runtime/session-log.ts";
import type { SessionMeta } from "../daemon/scripts/runtime/session-log.ts";
import { RunRecordStore } from "../daemon/scripts/runtime/run-records.ts";
import type { RunRecord } from "../daemon/scripts/runtime/run-records.ts";
import { ScriptSourceStore } from "../daemon/scripts/runtime/script-source-store.ts";
import { openTestStore, tempDir } from "./helpers/store-fixture.ts";

let tmp: { dir: string; cleanup: () => void };
let store: WorkspaceStore;
beforeEach(async () => {
  tmp = tempDir("openprod-records-");
  store = await openTestStore(tmp.dir);
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

const raw = async (namespace: string): Promise<[string, unknown][]> => {
  const out: [string, unknown][] = [];
  for await (const [k, v] of store.records(namespace).list()) out.push([k, JSON.parse(Buffer.from(v).toString("utf8"))]);
  return out;
};

const meta: SessionMeta = { id: "s-run-1", scriptId: "renumber_cues", runId: "run-1", hash: "h", isolation: "snapshot", heads: [], startHlc: "0", resolutions: {} };
const op = (n: number): Operation => ({ op: "SetField", id: "e-1", field: "lighting.cue.number", value: n });

describe("the session log keeps a session's header and op batches where a restart finds them", () => {
  it("header under the session id, batches under <id>/ops/<10-digit seq>, read back in order and removed together", async () => {
    const log = new SessionLog(store);
    await log.writeMeta(meta);
    await log.appendOps(meta.id, 2, [op(2)]);
    await log.appendOps(meta.id, 1, [op(1)]);
    await log.writeMeta({ ...meta, id: "s-run-10" });
    expect(await raw("sessions")).toEqual([
      ["s-run-1", meta],
      ["s-run-1/ops/0000000001", [op(1)]],
      ["s-run-1/ops/0000000002", [op(2)]],
      ["s-run-10", { ...meta, id: "s-run-10" }],
    ]);
    const all = await log.readAll();
    expect(all.find((s) => s.meta.id === meta.id)?.batches).toEqual([[op(1)], [op(2)]]);
    // Removing s-run-1 leaves s-run-10 alone, though one id is a prefix of the other.
    const removal = await log.removal(meta.id);
    expect(removal.map((w) => [w.namespace, w.key, w.value])).toEqual([
      ["sessions", "s-run-1", null],
      ["sessions", "s-run-1/ops/0000000001", null],
      ["sessions", "s-run-1/ops/0000000002", null],
    ]);
    await store.writeRecords(removal);
    expect((await raw("sessions")).map(([k]) => k)).toEqual(["s-run-10"]);
  });
});

describe("run records and script sources are JSON records by run id and by content hash", () => {
  it("a run record is stored under namespace runs by its id and listed back", async () => {
    const records = new RunRecordStore(store);
    const rec = { runId: "run-7", script: "t", hash: null, mode: "session", args: {}, context: {}, heads: [], seed: 1, startedAt: 1, endedAt: 2, status: "ok", ops: 0, bundles: 0, skips: [], inputs: [], log: [] } satisfies RunRecord;
    await records.write(rec);
    expect(await raw("runs")).toEqual([["run-7", rec]]);
    expect(await records.read("run-7")).toEqual(rec);
    expect(await records.read("run-8")).toBeUndefined();
    const listed: RunRecord[] = [];
    for await (const r of records.list()) listed.push(r);
    expect(listed).toEqual([rec]);
  });

  it("a script source is stored under namespace script-sources by its hash as { path, source }", async () => {
    const sources = new ScriptSourceStore(store);
    await sources.put("abc", { path: "workspace/scripts/t.lua", source: "log.info(1)" });
    expect(await raw("script-sources")).toEqual([["abc", { path: "workspace/scripts/t.lua", source: "log.info(1)" }]]);
    expect(await sources.get("abc")).toEqual({ path: "workspace/scripts/t.lua", source: "log.info(1)" });
    expect(await sources.get("missing")).toBeUndefined();
  });
});
