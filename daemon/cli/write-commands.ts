/** The commands that write one bundle through the daemon: create, set, resolve a conflict, link two entities. */
import type { Command } from "./command.ts";
import { UsageError, parseValue } from "./args.ts";
import type { Fields } from "../../protocol/index.ts";
import { live } from "./calls.ts";
import { bundleText } from "./bundle-text.ts";

export const CREATE_COMMAND: Command = {
  name: "create",
  usage: "openprod create <table> [field=value ...]",
  summary: "create an entity in a table, with field values (needs a daemon)",
  examples: ["openprod create lighting_cues number=12 label='Blackout'"],
  args: [1, Infinity],
  async run(ctx) {
    const [table, ...pairs] = ctx.args.positional;
    const fields: Fields = {};
    for (const p of pairs) {
      const eq = p.indexOf("=");
      if (eq < 1) throw new UsageError(`"${p}" is not field=value`, "create");
      fields[p.slice(0, eq)] = parseValue(p.slice(eq + 1));
    }
    const r = await live(ctx, "entity.create", { tables: [table], fields });
    return { doc: r, text: r.id };
  },
};

export const SET_COMMAND: Command = {
  name: "set",
  usage: "openprod set <id> <field> <value>",
  summary: "set one field (needs a daemon); value is JSON when valid JSON, else text",
  examples: ["openprod set 01JF3Q8W0000000000000000 channel 42", "openprod set 01JF3Q8W0000000000000000 label 'House to half'"],
  args: [3, 3],
  async run(ctx) {
    const [id, field, raw] = ctx.args.positional;
    const r = await live(ctx, "entity.set", { id, field, value: parseValue(raw) });
    return { doc: r, text: bundleText(r) };
  },
};

export const RESOLVE_COMMAND: Command = {
  name: "resolve",
  usage: "openprod resolve <conflict-id> <value|--ours|--theirs>  |  openprod resolve --bulk <id> --all-ours|--all-theirs",
  summary: "resolve a conflict with a value or one side, or a bulk conflict in one choice (needs a daemon)",
  examples: ["openprod resolve c-3f2a 42", "openprod resolve c-3f2a --theirs", "openprod resolve --bulk b-91c0 --all-ours"],
  flags: {
    ours: { type: "boolean", help: "keep this peer's value" },
    theirs: { type: "boolean", help: "keep the other peer's value" },
    bulk: { type: "string", help: "a bulk conflict id (with --all-ours or --all-theirs)" },
    "all-ours": { type: "boolean", help: "with --bulk: keep every value of this peer's side" },
    "all-theirs": { type: "boolean", help: "with --bulk: keep every value of the other side" },
  },
  args: [0, 2],
  async run(ctx) {
    const f = ctx.args.flags;
    const pos = ctx.args.positional;
    if (typeof f.bulk === "string") {
      if (pos.length || f.ours || f.theirs || Boolean(f["all-ours"]) === Boolean(f["all-theirs"])) {
        throw new UsageError("use: openprod resolve --bulk <id> --all-ours|--all-theirs", "resolve");
      }
      const r = await live(ctx, "conflicts.resolveBulk", { id: f.bulk, keep: f["all-ours"] ? "ours" : "theirs" });
      return { doc: r, text: bundleText(r) };
    }
    const sides = [f.ours, f.theirs].filter(Boolean).length;
    if (pos.length === 0 || pos.length + sides !== 2 || f["all-ours"] || f["all-theirs"]) {
      throw new UsageError("use: openprod resolve <conflict-id> <value|--ours|--theirs>", "resolve");
    }
    const r = await live(ctx, "conflicts.resolve", sides ? { id: pos[0], keep: f.ours ? "ours" : "theirs" } : { id: pos[0], value: parseValue(pos[1]) });
    return { doc: r, text: bundleText(r) };
  },
};

export const LINK_COMMAND: Command = {
  name: "link",
  usage: "openprod link <edge-type> <source-id> <target-id>",
  summary: "create an edge between two entities (needs a daemon), e.g. a cue's scene edge",
  examples: ["openprod link scene 01JF3Q8W0000000000000001 01JF3Q8W0000000000000002"],
  args: [3, 3],
  async run(ctx) {
    const [type, source, target] = ctx.args.positional;
    const r = await live(ctx, "edge.create", { type, source, target });
    return { doc: r, text: r.edgeId };
  },
};
