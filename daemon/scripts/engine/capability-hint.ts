/**
 * A script that uses a module its capabilities do not give it sees that module
 * as nil, and Lua says only `attempt to index a nil value (global 'ui')`. This
 * adds which capability would make it available, so the author knows what to
 * write in the script's `capabilities = [...]`.
 */

/** Global modules that exist only with a capability, and the capabilities that bring them. */
const GATED: Record<string, string> = {
  ui: 'ui.notify (ui.toast, ui.progress), ui.navigate (ui.navigate.*) or ui.dialog (ui.dialog.*) capability',
  osc: "net.osc:<ports> capability (e.g. \"net.osc:8000-8010\")",
  midi: "net.midi capability",
  http: "net.http.client (requests) or net.http.server:<port> capability",
  fs: "fs.read:<glob>, fs.write:<glob> or fs.watch:<glob> capability (e.g. \"fs.read:imports/*\")",
  lightwright: "native.lightwright capability",
};

const NIL_GLOBAL = /attempt to (?:index|call) a nil value \(global '([A-Za-z_][A-Za-z0-9_]*)'\)/;

/** The Lua error message with the capability hint appended when it is about a gated module; else unchanged. */
export function withCapabilityHint(message: string): string {
  const m = NIL_GLOBAL.exec(message);
  if (!m) return message;
  const needs = GATED[m[1]];
  return needs ? `${message}: ${m[1]} is available with the ${needs} in the script's capabilities` : message;
}
