/** `openprod test`: runs the show's *_test.lua files offline (no daemon, a scratch store per test). */
import type { Command } from "./command.ts";
import { UsageError } from "./args.ts";
import { loadFromSources } from "./connection.ts";
import type * as ScriptTest from "../scripttest/index.ts";

const REPORTER_NAMES: readonly string[] = ["text", "tap", "junit", "json"] satisfies readonly ScriptTest.ReporterName[];
const isReporter = (v: string): v is ScriptTest.ReporterName => REPORTER_NAMES.includes(v);

export const TEST_COMMAND: Command = {
  name: "test",
  usage: "openprod test [paths...] [--filter <pattern>] [--reporter text|tap|junit|json] [--dir <show>]",
  summary: "run the show's script tests (*_test.lua) against scratch workspaces, without a daemon",
  details:
    "Test files are *_test.lua under workspace/tests/ and modules/<m>/tests/ (or the files and folders given,\n" +
    "relative to the current directory).\n" +
    "Each it(...) runs on a fresh scratch workspace with the show's schema, scripts and capabilities;\n" +
    "the show's own store and the network are never touched. Exit status 1 when any test fails.\n" +
    "See docs/testing-scripts.md.",
  examples: ["openprod test", "openprod test workspace/tests/renumber_cues_test.lua", "openprod test --filter 'renumber' --reporter junit > results.xml"],
  flags: {
    filter: { type: "string", help: "run only tests whose full name (describe names and it name) matches this pattern" },
    reporter: { type: "string", help: "output format: text (default), tap, junit or json" },
  },
  args: [0, Number.POSITIVE_INFINITY],
  async run(ctx) {
    const r = ctx.args.flags.reporter;
    const chosen = typeof r === "string" ? r : ctx.json ? "json" : "text";
    if (!isReporter(chosen)) throw new UsageError(`--reporter must be one of ${REPORTER_NAMES.join(", ")} (got "${chosen}")`, "test");
    const f = ctx.args.flags.filter;
    if (typeof f === "string") {
      try {
        new RegExp(f);
      } catch (e) {
        throw new UsageError(`--filter "${f}" is not a valid pattern: ${(e as Error).message}`, "test");
      }
    }
    // From the sources, like the daemon: the runner reads Lua files beside them, which the CLI bundle is not.
    const { runTests, report } = await loadFromSources<typeof ScriptTest>("daemon/scripttest/index.ts");
    const suite = await runTests({ showDir: ctx.dir, paths: ctx.args.positional, filter: typeof f === "string" ? f : undefined });
    ctx.io.stdout.write(report(chosen, suite));
    return suite.failed > 0 ? 1 : 0;
  },
};
