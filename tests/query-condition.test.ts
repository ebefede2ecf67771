import { describe, expect, it } from "vitest";
import { InvalidOperation } from "../daemon/crdt/errors.ts";
import { evaluateCondition, formatCondition, parseCondition } from "../daemon/crdt/query/index.ts";

const when = (src: string, values: Record<string, unknown>) => evaluateCondition(parseCondition(src), (name) => values[name]);

describe("a trigger's when = condition decides whether it fires", () => {
  it("the spec's example: fires when a cue starts running", () => {
    const src = "new_value == 'running' and not (old_value == 'running')";
    expect(when(src, { new_value: "running", old_value: "standby" })).toBe(true);
    expect(when(src, { new_value: "running", old_value: "running" })).toBe(false);
    expect(when(src, { new_value: "stopped", old_value: "running" })).toBe(false);
    expect(when(src, { new_value: "running" })).toBe(true); // old_value unset is nil
  });

  it("dotted names are looked up as written", () => {
    const seen: string[] = [];
    const c = parseCondition("source.channel >= 10 AND table == 'x'");
    expect(
      evaluateCondition(c, (n) => {
        seen.push(n);
        return n === "source.channel" ? 12 : "x";
      }),
    ).toBe(true);
    expect(seen).toEqual(["source.channel", "table"]);
  });

  it("nil, numbers and IN follow the query rules", () => {
    expect(when("new_value == nil", {})).toBe(true);
    expect(when("new_value != 3", {})).toBe(true);
    expect(when("new_value < 3", {})).toBe(false);
    expect(when("new_value == 3", { new_value: 3.0 })).toBe(true);
    expect(when("new_value == '3'", { new_value: 3 })).toBe(false);
    expect(when("new_value IN ('go', 'standby')", { new_value: "go" })).toBe(true);
    expect(when("new_value NOT IN ('go', 'standby')", { new_value: "go" })).toBe(false);
    expect(when("a == 1 or b == 2 and c == 3", { a: 1 })).toBe(true);
    expect(when("(a == 1 or b == 2) and c == 3", { a: 1 })).toBe(false);
  });

  it("a condition is re-evaluated with fresh values each time", () => {
    const c = parseCondition("level > 50");
    expect(evaluateCondition(c, () => 80)).toBe(true);
    expect(evaluateCondition(c, () => 20)).toBe(false);
    expect(formatCondition(c)).toBe("level > 50");
  });

  it("a condition has no placeholders, ORDER BY or LIMIT", () => {
    expect(() => parseCondition("new_value == ?")).toThrow(InvalidOperation);
    expect(() => parseCondition("new_value == ?")).toThrow(
      /^condition "new_value == \?" at column 14: a condition cannot have "\?" placeholders; write the value itself$/,
    );
    expect(() => parseCondition("a == 1 ORDER BY a")).toThrow(/at column 8: unexpected "ORDER" after a condition/);
    expect(() => parseCondition("new_value == 'running")).toThrow(/condition "new_value == 'running" at column 14: unterminated string/);
  });
});
