import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { openKit } from "./fixtures/runtime-kit/kit.ts";
import type { Kit } from "./fixtures/runtime-kit/kit.ts";

const doc = readFileSync(path.resolve(import.meta.dirname, "../docs/script-api.md"), "utf8");
const examples = [...doc.matchAll(/```lua\n([\s\S]*?)```/g)].map((m) => m[1]);

let kit: Kit;
beforeAll(async () => {
  kit = await openKit();
});
afterAll(() => kit.close());

describe("every example of the script API reference runs", () => {
  it("has examples for every function", () => {
    expect(examples.length).toBeGreaterThan(20);
    for (const fn of ["core.query(", "core.query_one(", "core.query_live(", "core.get_field(", "core.schema.list_tables(", "core.schema.get_fields(", "core.create_entity(", "core.set_field(", "core.delete_entity(", "core.add_to_table(", "core.remove_from_table(", "core.attach_facet(", "core.detach_facet(", "core.create_edge(", "core.delete_edge(", "core.text.insert_at(", "core.text.delete_range(", "core.text.replace_range(", "core.list.insert(", "core.list.append(", "core.list.remove(", "core.list.remove_at(", "core.create_ordered_edge(", "core.move_ordered_edge(", "core.query_ordered_edges(", "core.merge_entities(", "core.split_entity(", "core.commit(", "core.discard(", "core.overlay.operations(", "core.get_conflicts(", "core.resolve_conflict(", "core.sleep(", "core.race(", "json.encode(", "json.decode(", "ui.dialog.select("]) {
      expect(doc).toContain(fn);
    }
  });

  examples.forEach((source, i) => {
    it(`example ${i + 1}: ${source.split("\n")[0].slice(0, 60)}`, async () => {
      kit.answers.push(true, "42", "B");
      const r = await kit.lua(source, { onError: "abort" }, { args: { scene_id: "s-1" } });
      expect(r.error).toBeUndefined();
      expect(r.status).toBe("ok");
      if (r.sessionStatus === "open") await kit.runtime.discardSession(r.sessionId as string);
    });
  });
});
