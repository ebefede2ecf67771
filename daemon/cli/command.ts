/**
 * The shape of an `openprod` command. Every command file imports these types
 * from here (not from commands.ts, which lists the commands), so no command
 * file and the list import each other.
 */
import type { FlagSpec, ParsedArgs } from "./args.ts";
import type { CliIO } from "./output.ts";

export interface CommandContext {
  dir: string;
  /** `--as <name>`: the person the CLI writes as. */
  as?: string;
  json: boolean;
  io: CliIO;
  args: ParsedArgs;
}

export interface Command {
  name: string;
  usage: string;
  summary: string;
  details?: string;
  examples: string[];
  flags?: Record<string, FlagSpec>;
  args: [min: number, max: number];
  /** `--help` with arguments given (`openprod run renumber_cues --help`): help about that thing, e.g. a script's args. */
  helpFor?(ctx: CommandContext): Promise<{ doc: unknown; text: string }>;
  /** Returns the JSON document (printed as is with --json) and its text form; or an exit code when it printed itself. */
  run(ctx: CommandContext): Promise<{ doc: unknown; text: string } | number>;
}
