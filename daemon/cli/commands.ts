/**
 * Every `openprod` command, in the order `openprod --help` lists them. This is
 * the one place commands are registered: a new command lives in its own file
 * (typed by ./command.ts) and is added here with one line.
 */
import type { Command } from "./command.ts";
import { DAEMON_COMMAND, INIT_COMMAND } from "./show-commands.ts";
import { CONFLICTS_COMMAND, GET_COMMAND, HISTORY_COMMAND, QUERY_COMMAND, STATUS_COMMAND } from "./read-commands.ts";
import { CREATE_COMMAND, LINK_COMMAND, RESOLVE_COMMAND, SET_COMMAND } from "./write-commands.ts";
import { PEERS_COMMAND } from "./peers-command.ts";
import { LOG_COMMAND } from "./log-command.ts";
import { STORE_COMMAND } from "./store-command.ts";
import { EDIT_COMMANDS } from "./edit-commands.ts";
import { PROFILE_COMMAND, REPLAY_COMMAND, RUNS_COMMAND, RUN_COMMAND, RUN_RECORD_COMMAND, SCRIPTS_COMMAND } from "./run-commands.ts";
import { SESSIONS_COMMAND, SESSION_COMMAND } from "./session-commands.ts";
import { TRACES_COMMAND, TRIGGERS_COMMAND } from "./trigger-commands.ts";
import { CANCEL_COMMAND, PS_COMMAND, START_COMMAND, STOP_COMMAND } from "./background-commands.ts";
import { CONSOLE_COMMAND } from "./console-command.ts";
import { TEST_COMMAND } from "./test-command.ts";
import { DEBUG_COMMAND } from "./debug-command.ts";
import { INVITE_COMMAND } from "./invite-command.ts";
import { JOIN_COMMAND } from "./join-command.ts";

/** Kept for command files written against the old layout; new ones import these types from ./command.ts. */
export type { Command, CommandContext } from "./command.ts";

export const COMMANDS: Command[] = [
  INIT_COMMAND,
  DAEMON_COMMAND,
  STATUS_COMMAND,
  QUERY_COMMAND,
  GET_COMMAND,
  CREATE_COMMAND,
  SET_COMMAND,
  HISTORY_COMMAND,
  CONFLICTS_COMMAND,
  RESOLVE_COMMAND,
  PEERS_COMMAND,
  LOG_COMMAND,
  STORE_COMMAND,
  ...EDIT_COMMANDS,
  RUN_COMMAND,
  SCRIPTS_COMMAND,
  SESSIONS_COMMAND,
  SESSION_COMMAND,
  RUNS_COMMAND,
  RUN_RECORD_COMMAND,
  PROFILE_COMMAND,
  REPLAY_COMMAND,
  TRIGGERS_COMMAND,
  TRACES_COMMAND,
  CANCEL_COMMAND,
  START_COMMAND,
  STOP_COMMAND,
  PS_COMMAND,
  LINK_COMMAND,
  CONSOLE_COMMAND,
  TEST_COMMAND,
  DEBUG_COMMAND,
  INVITE_COMMAND,
  JOIN_COMMAND,
];
