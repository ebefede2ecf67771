import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkspaceStore } from "../daemon/crdt/index.ts";
import { formatQuery, parseQuery } from "../daemon/crdt/index.ts";
import { USER, openTestStore, tempDir } from "./helpers/store-fixture.ts";

const tmp = tempDir("openprod-query-matching-");
let store: WorkspaceStore;
const labels = (expr: string, ...params: unknown[]): unknown[] => store.query(expr, params).map((e) => e.fields["lighting.cue.label"]);

beforeAll(async () => {
  store = await openTestStore(tmp.dir);
  await store.apply(
    ["House to half", "Blackout", "Preset: house open", "Act 1 blackout", "Bows"].map((label, i) => ({ op: "CreateEntity" as const, tables: ["lighting_cues"], fields: { number: i + 1, label } })),
    USER,
  );
});

afterAll(async () => {
  await store.close();
  tmp.cleanup();
});

describe("the query language matches text by prefix and by part, ignoring case", () => {
  it("CONTAINS finds a part of a string field anywhere", () => {
    expect(labels("table == 'lighting_cues' AND label CONTAINS 'black' ORDER BY number")).toEqual(["Blackout", "Act 1 blackout"]);
    expect(labels("table == 'lighting_cues' AND label CONTAINS ? ORDER BY number", "HOUSE")).toEqual(["House to half", "Preset: house open"]);
  });

  it("STARTS WITH finds a prefix; NOT and OR combine as usual", () => {
    expect(labels("table == 'lighting_cues' AND label STARTS WITH 'b' ORDER BY number")).toEqual(["Blackout", "Bows"]);
    expect(labels("table == 'lighting_cues' AND NOT label STARTS WITH 'b' AND label CONTAINS 'o' ORDER BY number")).toEqual(["House to half", "Preset: house open", "Act 1 blackout"]);
  });

  it("formats back to the same text, so it round-trips", () => {
    const q = parseQuery("label starts with 'Q' AND label contains ?");
    expect(formatQuery(q)).toBe("label STARTS WITH 'Q' AND label CONTAINS ?");
    expect(formatQuery(parseQuery(formatQuery(q)))).toBe(formatQuery(q));
  });

  it("~= is Lua's not-equal, as the data model page says", () => {
    expect(labels("table == 'lighting_cues' AND number ~= 1 AND number < 4 ORDER BY number")).toEqual(["Blackout", "Preset: house open"]);
  });

  it("a value first is an error that says to write the field first", () => {
    expect(() => store.query("'x' CONTAINS label")).toThrow(/CONTAINS matches a field against a value: write the field first/);
  });
});

describe("comparing a field with a value of another kind is an InvalidOperation, not an empty result", () => {
  it("a string field against a number says so and how to write it", () => {
    expect(() => store.query("table == 'lighting_cues' AND label == 5")).toThrow(/field lighting\.cue\.label is string and cannot equal the number 5 \(quote it: '5'\)/);
    try {
      store.query("table == 'lighting_cues' AND label == ?", [5]);
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe("InvalidOperation");
      expect((e as Error).message).toContain("field lighting.cue.label is string and cannot equal the number 5 (quote it: '5')");
    }
  });

  it("an int or float field against a string, and text matching on a number field, too", () => {
    expect(() => store.query("table == 'lighting_fixtures' AND channel == '5'")).toThrow(/field lighting\.fixture\.channel is int and cannot equal the string "5" \(write the number without quotes\)/);
    expect(() => store.query("table == 'lighting_cues' AND number == '5.5'")).toThrow(/field lighting\.cue\.number is float and cannot equal the string "5.5" \(write the number without quotes\)/);
    expect(() => store.query("table == 'lighting_cues' AND number CONTAINS '5'")).toThrow(/CONTAINS matches text, and field lighting\.cue\.number is float/);
    expect(() => store.query("table == 'lighting_cues' AND label IN ('a', 2)")).toThrow(/cannot equal the number 2/);
  });

  it("nil stays comparable with any field", () => {
    expect(labels("table == 'lighting_cues' AND status == nil AND number == 2")).toEqual(["Blackout"]);
  });
});
