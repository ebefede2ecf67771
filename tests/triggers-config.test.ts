import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { loadShow } from "../daemon/config/index.ts";
import { ConfigError } from "../daemon/crdt/errors.ts";
import { loadTriggers, stronglyConnectedComponents, triggerCycles, triggerSections } from "../daemon/triggers/index.ts";
import { SPEC_SCRIPTS as SCRIPTS, SPEC_TRIGGERS, knownScripts, triggersFrom } from "./fixtures/triggers-kit/kit.ts";
import { EXAMPLE_SHOW, exampleSchema } from "./helpers/store-fixture.ts";

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("the spec's triggers load as written", () => {
  it("the example show's triggers load with every name resolved", async () => {
    const show = await loadShow(EXAMPLE_SHOW);
    const { triggers, rejected } = loadTriggers(triggerSections(show.config.triggers, show.modules), {
      schema: show.schema,
      scripts: knownScripts(show.config, show.schema),
    });
    expect(rejected).toEqual([]);
    const [renumber, started] = triggers;
    expect(renumber).toMatchObject({
      name: "renumber_on_reorder",
      scope: "scene",
      script: "renumber_cues",
      mode: "session",
      concurrency: "queued",
      remote: false,
      maxTraces: 50,
      params: { scene_id: { kind: "scope_entity_id" } },
    });
    expect(renumber.field.key).toBe("lighting.cue.order_index");
    expect(renumber.line).toBeGreaterThan(1);
    expect(started.field.key).toBe("lighting.cue.status");
    expect(started.when?.source).toBe("new_value == 'running'");
  });

  it("short field names resolve when unambiguous; options and literal params are kept", async () => {
    const schema = await exampleSchema();
    const { triggers } = triggersFrom(
      `${SCRIPTS}
[trigger.a]
on_field_change = "cue.status"
run_script = "log_cue_start"
params = { who = "$source", label = "$source.label", before = "$old_value", after = "$new_value", n = 3, tag = "$$literal" }
concurrency = "restart"
supersede = true
remote = true
max_traces = 5
[trigger.b]
on_field_change = "order_index"
when = "source.label == 'GO' and old_value != nil"
run_script = "log_cue_start"`,
      schema,
    );
    expect(triggers.map((t) => t.field.key)).toEqual(["lighting.cue.status", "lighting.cue.order_index"]);
    expect(triggers[0].params).toMatchObject({
      who: { kind: "source" },
      label: { kind: "source_field", field: { key: "lighting.cue.label" } },
      before: { kind: "old_value" },
      after: { kind: "new_value" },
      n: { kind: "literal", value: 3 },
      tag: { kind: "literal", value: "$literal" },
    });
    expect(triggers[0]).toMatchObject({ concurrency: "restart", supersede: true, remote: true, maxTraces: 5, mode: undefined });
    expect(triggers[1].supersede).toBe(false);
    expect(triggers[1].whenFields.get("source.label")?.key).toBe("lighting.cue.label");
  });
});

describe("a mistake in a trigger stops the load naming file, line and reason", () => {
  const cases: [string, string, RegExp][] = [
    ["unknown key", `on_field_change = "lighting.cue.status"\nrun_script = "log_cue_start"\nwhn = "x"`, /:\d+: \[trigger\.t\] whn: unknown key \(did you mean "when"\?\)/],
    ["unknown script", `on_field_change = "lighting.cue.status"\nrun_script = "log_cue"`, /run_script: unknown script "log_cue".*known scripts: renumber_cues, log_cue_start/],
    ["unknown field", `on_field_change = "lighting.cue.statsu"\nrun_script = "log_cue_start"`, /on_field_change: unknown field "lighting.cue.statsu" \(did you mean "lighting.cue.status"\?\)/],
    ["ambiguous field", `on_field_change = "name"\nrun_script = "log_cue_start"`, /"name" is ambiguous: it could be .*lighting.scene.name/],
    ["unknown edge type", `on_field_change = "lighting.cue.status"\nscope = "scenes"\nrun_script = "log_cue_start"`, /scope: unknown edge type "scenes" \(did you mean "scene"\?\)/],
    ["bad reference", `on_field_change = "lighting.cue.status"\nrun_script = "log_cue_start"\nparams = { x = "$sauce" }`, /params\.x: "\$sauce": unknown reference "sauce"/],
    ["unknown source field", `on_field_change = "lighting.cue.status"\nrun_script = "log_cue_start"\nparams = { x = "$source.lable" }`, /unknown field "lable" \(did you mean "label"\?\)/],
    ["scope reference without scope", `on_field_change = "lighting.cue.status"\nrun_script = "log_cue_start"\nparams = { x = "$scope_entity_id" }`, /needs a scope/],
    ["bad when syntax", `on_field_change = "lighting.cue.status"\nwhen = "new_value == "\nrun_script = "log_cue_start"`, /when: condition "new_value == " at column \d+/],
    ["unknown name in when", `on_field_change = "lighting.cue.status"\nwhen = "nwe_value == 'running'"\nrun_script = "log_cue_start"`, /at column 1: unknown reference "nwe_value"/],
    ["bad mode", `on_field_change = "lighting.cue.status"\nrun_script = "log_cue_start"\nmode = "auto"`, /mode: expected "session" or "autoCommit", got "auto"/],
    ["bad concurrency", `on_field_change = "lighting.cue.status"\nrun_script = "log_cue_start"\nconcurrency = "queue"`, /concurrency: expected one of single, restart, queued, parallel, got "queue" \(did you mean "queued"\?\)/],
    ["bad supersede", `on_field_change = "lighting.cue.status"\nrun_script = "log_cue_start"\nsupersede = "yes"`, /supersede: expected true or false/],
    ["bad max_traces", `on_field_change = "lighting.cue.status"\nrun_script = "log_cue_start"\nmax_traces = 0`, /max_traces: must be at least 1/],
    ["missing field", `run_script = "log_cue_start"`, /on_field_change: is required/],
  ];
  for (const [name, body, pattern] of cases) {
    it(name, async () => {
      const schema = await exampleSchema();
      const err = errorOf(() => triggersFrom(`${SCRIPTS}\n[trigger.t]\n${body}\n`, schema));
      expect(err.message).toMatch(/^show\/openprod\.toml:\d+: \[trigger\.t\]/);
      expect(err.message).toMatch(pattern);
    });
  }
});

describe("a trigger that would form a cycle is rejected with the cycle spelled out", () => {
  it("the spec's renumber trigger with a script that may write all of lighting loops on itself", async () => {
    const schema = await exampleSchema();
    const toml = SCRIPTS.replace('"data.write:lighting.cue.number"', '"data.write:lighting.*"') + SPEC_TRIGGERS;
    const { triggers, rejected } = triggersFrom(toml, schema);
    expect(triggers.map((t) => t.name)).toEqual(["cue_started"]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0].name).toBe("renumber_on_reorder");
    expect(rejected[0].error).toBeInstanceOf(ConfigError);
    expect(rejected[0].error.message).toContain(
      "trigger cycle: renumber_on_reorder -> renumber_cues writes lighting.cue.order_index -> renumber_on_reorder",
    );
    expect(rejected[0].error.message).toMatch(/^show\/openprod\.toml:\d+: \[trigger\.renumber_on_reorder\]/);
  });

  it("a two-trigger cycle names both hops; triggers off the cycle still load", async () => {
    const schema = await exampleSchema();
    const { triggers, rejected } = triggersFrom(
      `
[script.s1]
capabilities = ["data.write:lighting.cue.label"]
[script.s2]
capabilities = ["data.write:lighting.cue.status"]
[script.s3]
capabilities = ["data.write:lighting.cue.status"]
[trigger.on_status]
on_field_change = "lighting.cue.status"
run_script = "s1"
[trigger.on_label]
on_field_change = "lighting.cue.label"
run_script = "s2"
[trigger.on_number]
on_field_change = "lighting.cue.number"
run_script = "s3"
`,
      schema,
    );
    expect(triggers.map((t) => t.name)).toEqual(["on_number"]);
    expect(rejected.map((r) => r.error.message.replace(/^.*\] /, ""))).toEqual([
      "trigger cycle: on_status -> s1 writes lighting.cue.label -> on_label -> s2 writes lighting.cue.status -> on_status; this trigger is not loaded (narrow the script's data.write capabilities or watch another field)",
      "trigger cycle: on_label -> s2 writes lighting.cue.status -> on_status -> s1 writes lighting.cue.label -> on_label; this trigger is not loaded (narrow the script's data.write capabilities or watch another field)",
    ]);
  });

  it("on random graphs, exactly the triggers that can reach themselves are rejected", () => {
    const graph = fc.record({
      fields: fc.integer({ min: 1, max: 6 }),
      triggers: fc.array(fc.record({ script: fc.nat(4), watches: fc.nat(5) }), { maxLength: 12 }),
      writes: fc.array(fc.uniqueArray(fc.nat(5), { maxLength: 4 }), { minLength: 5, maxLength: 5 }),
    });
    fc.assert(
      fc.property(graph, ({ fields, triggers, writes }) => {
        const nodes = triggers.map((t, i) => ({ name: `t${i}`, script: `s${t.script}`, watches: `f${t.watches % fields}` }));
        const writesOf = (s: string) => new Set(writes[Number(s.slice(1))].map((f) => `f${f % fields}`));
        const succ = (i: number) => nodes.flatMap((n, j) => (writesOf(nodes[i].script).has(n.watches) ? [j] : []));
        const reachesItself = (start: number): boolean => {
          const seen = new Set<number>();
          const todo = [...succ(start)];
          while (todo.length) {
            const v = todo.pop() as number;
            if (v === start) return true;
            if (seen.has(v)) continue;
            seen.add(v);
            todo.push(...succ(v));
          }
          return false;
        };
        const cycles = triggerCycles(nodes, writesOf);
        const expected = nodes.map((_, i) => i).filter(reachesItself);
        expect([...cycles.keys()].sort((a, b) => a - b)).toEqual(expected);
        // Each spelled-out cycle is a real path: every hop's script may write the next trigger's field.
        for (const [i, text] of cycles) {
          const hops = text.replace("trigger cycle: ", "").split(" -> ");
          expect(hops[0]).toBe(`t${i}`);
          expect(hops[hops.length - 1]).toBe(`t${i}`);
          for (let h = 1; h + 1 < hops.length; h += 2) {
            const [script, , field] = hops[h].split(" ");
            const to = nodes[Number(hops[h + 1].slice(1))];
            expect(to.watches).toBe(field);
            expect(writesOf(script).has(field)).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("Tarjan's components partition the graph, deep chains included", () => {
    const n = 20_000;
    const comps = stronglyConnectedComponents(n, (v) => (v + 1 < n ? [v + 1] : [0]));
    expect(comps).toHaveLength(1);
    expect(comps[0]).toHaveLength(n);
    const line = stronglyConnectedComponents(n, (v) => (v + 1 < n ? [v + 1] : []));
    expect(line).toHaveLength(n);
  });
});
