/**
 * The part of the Debug Adapter Protocol (https://microsoft.github.io/debug-adapter-protocol/)
 * this adapter speaks: the base message shapes and the argument/body types it reads or sends.
 */
export interface DapRequest {
  seq: number;
  type: "request";
  command: string;
  arguments?: Record<string, unknown>;
}

export interface DapResponse {
  seq: number;
  type: "response";
  request_seq: number;
  success: boolean;
  command: string;
  message?: string;
  body?: unknown;
}

export interface DapEvent {
  seq: number;
  type: "event";
  event: string;
  body?: unknown;
}

export type DapMessage = DapRequest | DapResponse | DapEvent;

export interface SourceBreakpoint {
  line: number;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}

export interface DapSource {
  name: string;
  path: string;
}

export interface DapStackFrame {
  id: number;
  name: string;
  source: DapSource;
  line: number;
  column: number;
}

export interface DapVariable {
  name: string;
  value: string;
  type: string;
  variablesReference: number;
  namedVariables?: number;
}

export type StoppedReason = "breakpoint" | "step" | "pause" | "exception" | "entry";

/** What `initialize` answers: the features a client may use. */
export const CAPABILITIES = {
  supportsConfigurationDoneRequest: true,
  supportsConditionalBreakpoints: true,
  supportsHitConditionalBreakpoints: true,
  supportsLogPoints: true,
  supportsEvaluateForHovers: true,
  supportsSetVariable: true,
  supportsTerminateRequest: true,
  supportTerminateDebuggee: true,
  exceptionBreakpointFilters: [
    { filter: "error", label: "All errors", description: "Stop at every error, also those a pcall catches", default: false },
    { filter: "uncaught", label: "Uncaught errors", description: "Stop at an error nothing catches, before the run ends", default: true },
  ],
} as const;
