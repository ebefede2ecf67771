/** `openprod test`: runs the show's *_test.lua files offline (no daemon, a scratch store per test). */
import type { Command } from "./command.ts";
import { UsageError } from "./args.ts";
import { loadFromSources } from "./connection.ts";
import type * as ScriptTest from "../scripttest/index.ts";

const REPORTER_NAMES: readonly string[] = ["text", "tap", "junit", "json"] satisfies readonly ScriptTest.ReporterName[];
const isReporter = (v: string): v is ScriptTest.ReporterName => REPORTER_NAMES.includes(v);

export const TEST_COMMAND: Command = {
  name: "test",
  usage: "openprod test [paths...] [--filter <pattern>] [--reporter text|tap|junit|json] [--watch] [--daemon] [--dir <show>]",
  summary: "run the show's script tests (*_test.lua) against scratch workspaces, without a daemon",
  details:
    "Test files are *_test.lua under workspace/tests/ and modules/<m>/tests/ (or the files and folders given,\n" +
    "relative to the current directory).\n" +
    "Each it(...) runs on a fresh scratch workspace with the show's schema, scripts and capabilities;\n" +
    "the show's own store and the network are never touched. Exit status 1 when any test fails.\n" +
    "--daemon starts each test from the show's current state instead of an empty workspace (fixture.snapshot() names it).\n" +
    "--watch runs them again each time a file of the show (or a path given) is saved, until Ctrl-C.\n" +
    "See docs/testing-scripts.md.",
  examples: ["openprod test", "openprod test workspace/tests/renumber_cues_test.lua", "openprod test --filter 'renumber' --reporter junit > results.xml"],
  flags: {
    filter: { type: "string", help: "run only tests whose full name (describe names and it name) matches this pattern" },
    reporter: { type: "string", help: "output format: text (default), tap, junit or json" },
    daemon: { type: "boolean", help: "each test starts from the show's current state (a private copy of its store; a running daemon is not disturbed)" },
    watch: { type: "boolean", help: "run again on every save of a script, test, fixture or openprod.toml (until Ctrl-C)" },
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
    const { runTests, report, watchTests } = await loadFromSources<typeof ScriptTest>("daemon/scripttest/index.ts");
    const opts = { showDir: ctx.dir, paths: ctx.args.positional, filter: typeof f === "string" ? f : undefined, fromShow: ctx.args.flags.daemon === true };
    if (ctx.args.flags.watch === true) return watchUntilStopped(watchTests, report, chosen, opts, ctx.io);
    const suite = await runTests(opts);
    ctx.io.stdout.write(report(chosen, suite));
    return suite.failed > 0 ? 1 : 0;
  },
};

/** Each run's report as it ends, a line saying what started a rerun; exit 0 on Ctrl-C / SIGTERM. */
function watchUntilStopped(
  watchTests: typeof ScriptTest.watchTests,
  report: typeof ScriptTest.report,
  reporter: ScriptTest.ReporterName,
  opts: ScriptTest.RunTestsOptions,
  io: { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown } },
): Promise<number> {
  return new Promise((resolve) => {
    const w = watchTests({
      ...opts,
      onRun: (suite, changed) => {
        if (changed.length > 0) io.stderr.write(`\nrerun: ${changed.slice(0, 5).join(", ")}${changed.length > 5 ? ` and ${changed.length - 5} more` : ""} changed\n`);
        io.stdout.write(report(reporter, suite));
        io.stderr.write("watching for changes (Ctrl-C to stop)\n");
      },
      onError: (e) => io.stderr.write(`openprod test: ${e.message}\nwatching for changes (Ctrl-C to stop)\n`),
    });
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void w.close().then(() => resolve(0));
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
