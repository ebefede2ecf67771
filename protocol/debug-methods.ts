/** The socket's debugging methods (openprod debug); see daemon/server/debug-service.ts. */

/** A debugging session is open: its DAP server's loopback port and owner-only Unix socket. */
export interface DebugStarted {
  id: string;
  port: number;
  socket: string;
  mode: "launch" | "attach";
}

/** How a debugged run ended, with lines saying how to commit or discard its session. */
export interface DebugEnd {
  id: string;
  runId: string;
  status: string;
  summary: string[];
  sessionId?: string;
}

declare module "./methods.ts" {
  interface Methods {
    /**
     * Opens a debugging session of `script`. Launch mode (default): the run starts when the DAP
     * client sends `launch`. `attach: true`: the script's next run waits for the debugger.
     * `port`: the loopback TCP port (default any free one). `wallLimitMs`: the run's wall-clock
     * limit under the debugger (default the script's `debug_timeout`, 1 h).
     */
    "debug.start": {
      params: { script: string; args?: Record<string, unknown>; attach?: boolean; port?: number; wallLimitMs?: number; user?: string };
      result: DebugStarted;
    };
    /** Waits until the session's run ended. */
    "debug.wait": { params: { id: string }; result: DebugEnd };
  }
}
