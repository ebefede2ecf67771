/** Turning any failure into the JSON-RPC error a client receives (see protocol/errors.ts). */
import { isOpenprodError } from "../crdt/vocabulary.ts";
import { RPC_CODES } from "../../protocol/index.ts";
import type { WireErrorData } from "../../protocol/index.ts";
import { InvalidParams } from "./params.ts";

export interface WireError {
  code: number;
  message: string;
  data: WireErrorData;
}

export function protocolError(code: number, message: string, details: Record<string, unknown> = {}): WireError {
  return { code, message, data: { type: "InvalidOperation", message, details } };
}

export function toWireError(e: unknown, method: string): WireError {
  if (e instanceof InvalidParams) {
    const message = `${method}: invalid params: ${e.message}`;
    return protocolError(RPC_CODES.InvalidParams, message, { method, path: e.path, problem: e.problem });
  }
  if (isOpenprodError(e)) {
    const data = e.toJSON();
    return { code: RPC_CODES[data.type], message: data.message, data: { ...data, details: { ...data.details } } };
  }
  const message = `${method} failed inside the daemon: ${e instanceof Error ? e.message : String(e)} (a bug; the daemon log has the stack)`;
  return { code: RPC_CODES.InternalError, message, data: { type: "InternalError", message, details: { method } } };
}
