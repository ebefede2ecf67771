/** The `openprod` command line. */
export { main } from "./main.ts";
export { COMMANDS } from "./commands.ts";
export type { Command, CommandContext } from "./command.ts";
export type { CliIO } from "./output.ts";
export { parseArgs, parseValue, UsageError } from "./args.ts";
export { initShow } from "./init-show.ts";
export type { InitResult } from "./init-show.ts";
