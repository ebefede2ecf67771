/** Turning Lua's compile errors into a SyntaxProblem a technician can act on (file, line, column). */
import type { SyntaxProblem } from "./types.ts";

/**
 * Lua reports `chunk:LINE: message near 'token'` and no column; the column is where that token
 * sits on the line (1 when there is no token, e.g. `near <eof>`). When the token occurs more than
 * once on the line, `recompile` (source → Lua's message, or null when it compiles) finds the
 * occurrence that triggers the same error: the source cut right after it fails identically.
 */
export function parseSyntaxError(raw: string, chunkName: string, source: string, recompile?: (src: string) => string | null): SyntaxProblem {
  let rest = raw;
  if (rest.startsWith(chunkName + ":")) rest = rest.slice(chunkName.length + 1);
  const m = /^(\d+): ([\s\S]*)$/.exec(rest);
  const line = m ? Number(m[1]) : 1;
  const message = m ? m[2] : rest;
  let column = 1;
  const near = /near '([\s\S]*)'$/.exec(message);
  if (near) {
    const lines = source.split("\n");
    const text = (lines[line - 1] ?? "").replace(/\r$/, "");
    const before = lines.slice(0, line - 1).join("\n") + (line > 1 ? "\n" : "");
    const token = near[1];
    const first = text.indexOf(token);
    if (first >= 0) column = first + 1;
    if (recompile && first >= 0 && text.indexOf(token, first + 1) >= 0) {
      let tries = 0;
      for (let at = first; at >= 0 && tries < 20; at = text.indexOf(token, at + 1), tries++) {
        if (recompile(before + text.slice(0, at + token.length)) === raw) {
          column = at + 1;
          break;
        }
      }
    }
  }
  return { type: "SyntaxError", file: chunkName, line, column, message };
}
