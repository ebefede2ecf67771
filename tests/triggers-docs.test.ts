import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { exampleSchema } from "./helpers/store-fixture.ts";
import { triggersFrom } from "./fixtures/triggers-kit/kit.ts";

const DOC = path.join(import.meta.dirname, "..", "docs", "triggers.md");
const text = fs.readFileSync(DOC, "utf8");

describe("the examples in docs/triggers.md are what the daemon does", () => {
  it("the configuration example loads as documented", async () => {
    const block = /```toml\n([\s\S]*?)```/.exec(text)?.[1] ?? "";
    const { triggers, rejected } = triggersFrom(block, await exampleSchema());
    expect(rejected).toEqual([]);
    expect(triggers.map((t) => [t.name, t.field.key, t.concurrency])).toEqual([
      ["renumber_on_reorder", "lighting.cue.order_index", "queued"],
      ["cue_started", "lighting.cue.status", "queued"],
    ]);
  });

  it("the documented cycle error is the one a too-broad capability produces", async () => {
    const block = /```toml\n([\s\S]*?)```/.exec(text)?.[1] ?? "";
    const broad = block.replace('"data.write:lighting.cue.number"', '"data.write:lighting.*"');
    const { rejected } = triggersFrom(broad, await exampleSchema(), "show/openprod.toml");
    const documented = /```\n(show\/openprod\.toml:.*)\n```/.exec(text)?.[1];
    expect(rejected.map((r) => r.error.message)).toEqual([documented]);
  });
});
