/**
 * Errors on the wire. Every JSON-RPC error the daemon sends carries
 * `data: { type, message, details }`, where `type` is one of the Scripts
 * Specification's error names (EntityNotFound, FieldNotFound,
 * PermissionDenied, InvalidOperation, NetworkError, Timeout) or ConfigError,
 * StorageError, InternalError (a daemon bug). Clients match on `type`; the
 * numeric `code` only follows JSON-RPC conventions.
 */

/** The typed error names (stable across versions): the Scripts Specification's, plus configuration and storage. */
export type ErrorCode =
  | "EntityNotFound"
  | "FieldNotFound"
  | "PermissionDenied"
  | "InvalidOperation"
  | "NetworkError"
  | "Timeout"
  | "ConfigError"
  | "StorageError";

/** The daemon's typed error codes, plus InternalError for a daemon bug. */
export type WireErrorType = ErrorCode | "InternalError";

export interface WireErrorData {
  type: WireErrorType | string;
  message: string;
  details: Record<string, unknown>;
}

/** JSON-RPC 2.0 reserved codes, and one application code per error type. */
export const RPC_CODES = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  EntityNotFound: -32001,
  FieldNotFound: -32002,
  PermissionDenied: -32003,
  InvalidOperation: -32004,
  NetworkError: -32005,
  Timeout: -32006,
  ConfigError: -32007,
  StorageError: -32008,
} as const;

/** A failed request, as the client library throws it. */
export class RpcError extends Error {
  override readonly name = "RpcError";
  constructor(
    readonly code: number,
    readonly data: WireErrorData,
  ) {
    super(data.message);
  }

  get type(): string {
    return this.data.type;
  }

  override toString(): string {
    return `${this.data.type}: ${this.data.message}`;
  }

  toJSON(): WireErrorData {
    return this.data;
  }
}

/** Raised by the client when there is no daemon to talk to. */
export class DaemonNotRunning extends Error {
  override readonly name = "DaemonNotRunning";
  constructor(
    readonly socketPath: string,
    readonly showDir: string,
    reason: string,
  ) {
    super(
      `no openprod daemon is running for ${showDir} (${reason} at ${socketPath}); start one with \`openprod daemon --dir ${showDir}\``,
    );
  }

  toJSON(): WireErrorData {
    return { type: "NetworkError", message: this.message, details: { socket: this.socketPath, dir: this.showDir, daemonRunning: false } };
  }
}
