/**
 * Typed errors shared by every part of the daemon. The `code` of each class is
 * one of the Scripts Specification's error type names (plus a few for
 * configuration and storage), stable across versions: clients, the socket and
 * Lua scripts match on it. Messages name the entity/field/value/file/line so a
 * technician can act on them; `details` carries the same facts for machines.
 */

import type { ErrorCode } from "../../protocol/index.ts";

/** The error names are the wire contract's: clients match on the same words. */
export type { ErrorCode } from "../../protocol/index.ts";

export type ErrorDetails = Record<string, unknown>;

export abstract class OpenprodError extends Error {
  abstract readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message);
    this.details = details;
  }

  override toString(): string {
    return `${this.code}: ${this.message}`;
  }

  toJSON(): { type: ErrorCode; message: string; details: ErrorDetails } {
    return { type: this.code, message: this.message, details: this.details };
  }
}

/** The entity does not exist, or was deleted (tombstoned) or merged away. */
export class EntityNotFound extends OpenprodError {
  readonly code = "EntityNotFound" as const;
  override readonly name = "EntityNotFound";
}

/** The field does not exist on any facet the entity (or table) carries. */
export class FieldNotFound extends OpenprodError {
  readonly code = "FieldNotFound" as const;
  override readonly name = "FieldNotFound";
}

/** A capability or permission is missing. */
export class PermissionDenied extends OpenprodError {
  readonly code = "PermissionDenied" as const;
  override readonly name = "PermissionDenied";
}

/** The operation violates the schema or the API contract (wrong type, bad query, ambiguous name...). */
export class InvalidOperation extends OpenprodError {
  readonly code = "InvalidOperation" as const;
  override readonly name = "InvalidOperation";
}

/** An external service or peer was unavailable or misbehaved. */
export class NetworkError extends OpenprodError {
  readonly code = "NetworkError" as const;
  override readonly name = "NetworkError";
}

/** A time limit was exceeded. */
export class Timeout extends OpenprodError {
  readonly code = "Timeout" as const;
  override readonly name = "Timeout";
}

/** A configuration file (openprod.toml, module.toml) is malformed; details carry file and line. */
export class ConfigError extends OpenprodError {
  readonly code = "ConfigError" as const;
  override readonly name = "ConfigError";
}

/** Stored state is damaged or unreadable; details say what and where. Nothing is overwritten. */
export class StorageError extends OpenprodError {
  readonly code = "StorageError" as const;
  override readonly name = "StorageError";
}

export function isOpenprodError(e: unknown): e is OpenprodError {
  return e instanceof OpenprodError;
}
