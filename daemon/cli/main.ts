/** The `openprod` command: global options, dispatch to a command, help, and one way to print results and errors. */
import type { FlagSpec } from "./args.ts";
import { UsageError, parseArgs } from "./args.ts";
import { COMMANDS } from "./commands.ts";
import type { Command } from "./commands.ts";
import { errorDoc, exitCodeOf, printError } from "./output.ts";
import type { CliIO } from "./output.ts";

const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  dir: { type: "string", help: "the show directory (default: the current directory)" },
  as: { type: "string", help: "write as this person (default: [user] name in openprod.toml)" },
  json: { type: "boolean", help: "print one JSON document on stdout (errors as {\"error\": {...}})" },
  help: { type: "boolean", short: "h", help: "explain the command" },
};

export async function main(argv: readonly string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const json = argv.includes("--json");
  let command: Command | undefined;
  try {
    const name = commandName(argv);
    if (name === undefined) {
      io.stdout.write(json ? JSON.stringify(helpDoc()) + "\n" : overview());
      return argv.includes("--help") || argv.includes("-h") ? 0 : 2;
    }
    command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(", ")}; openprod --help explains them)`);
    const rest = [...argv];
    rest.splice(argv.indexOf(name), 1);
    const args = parseArgs(rest, { ...GLOBAL_FLAGS, ...command.flags }, command.name);
    const dir = typeof args.flags.dir === "string" ? args.flags.dir : process.cwd();
    const as = typeof args.flags.as === "string" ? args.flags.as : undefined;
    if (args.flags.help && command.helpFor && args.positional.length > 0) {
      const h = await command.helpFor({ dir, as, json, io, args });
      io.stdout.write((json ? JSON.stringify(h.doc) : h.text) + "\n");
      return 0;
    }
    if (args.flags.help) {
      io.stdout.write(json ? JSON.stringify(commandDoc(command)) + "\n" : commandHelp(command));
      return 0;
    }
    const [min, max] = command.args;
    if (args.positional.length < min || args.positional.length > max) {
      throw new UsageError(`${command.name} takes ${min === max ? min : `${min} to ${max === Infinity ? "any number of" : max}`} argument(s), got ${args.positional.length}; usage: ${command.usage}`, command.name);
    }
    const r = await command.run({ dir, as, json, io, args });
    if (typeof r === "number") return r;
    io.stdout.write((json ? JSON.stringify(r.doc) : r.text) + "\n");
    return 0;
  } catch (e) {
    const doc = errorDoc(e);
    printError(io, json, doc);
    if (!json && e instanceof UsageError) io.stderr.write(`see: openprod ${e.command ?? ""}${e.command ? " " : ""}--help\n`);
    return exitCodeOf(doc);
  }
}

/** The first word that is neither an option nor an option's value. */
function commandName(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    if (t === "--dir" || t === "--as") i++;
    else if (!t.startsWith("-")) return t;
  }
  return undefined;
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "openprod: the Openprod peer daemon and its command line",
    "",
    "usage: openprod <command> [options]   (openprod <command> --help for details and examples)",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "options on every command:",
    ...Object.entries(GLOBAL_FLAGS).map(([k, f]) => `  --${k.padEnd(6)} ${f.help}`),
    "",
    "example:",
    "  openprod init myshow && openprod daemon --dir myshow",
    "",
  ].join("\n");
}

function commandHelp(c: Command): string {
  const flags = { ...c.flags, ...GLOBAL_FLAGS };
  return [
    `usage: ${c.usage}`,
    "",
    `${c.summary}.`,
    ...(c.details ? ["", c.details] : []),
    "",
    "options:",
    ...Object.entries(flags).map(([k, f]) => `  ${f.short ? `-${f.short}, ` : ""}--${k}${f.type === "string" ? " <value>" : ""}  ${f.help}`),
    "",
    "examples:",
    ...c.examples.map((e) => `  ${e}`),
    "",
  ].join("\n");
}

function commandDoc(c: Command): unknown {
  return { command: c.name, usage: c.usage, summary: c.summary, details: c.details, options: { ...c.flags, ...GLOBAL_FLAGS }, examples: c.examples };
}

function helpDoc(): unknown {
  return { commands: COMMANDS.map((c) => ({ name: c.name, usage: c.usage, summary: c.summary })), options: GLOBAL_FLAGS };
}
