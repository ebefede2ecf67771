/**
 * OSC 1.0 packets ↔ the plain values scripts see. node-osc does the byte work; we add what
 * its decoder leaves out and scripts need: each argument's type tag (so 2.0 stays a float and
 * nil is not lost) and each bundle's time tag, with bundles flattened into their messages.
 */
import { Buffer } from "node:buffer";
import { decode, encode } from "node-osc";
import { InvalidOperation } from "../../crdt/vocabulary.ts";
import { LuaFloat } from "../engine/index.ts";
import type { HostValue } from "../engine/index.ts";

/** One message as received: bundle members arrive one by one, each with its bundle's time tag. */
export interface OscMessage {
  path: string;
  /** The type tags without the comma, one letter per argument: "ifsbTFNm". */
  types: string;
  /** Ints as integers, floats as LuaFloat, nil as null, blobs as `{type="blob", hex=...}`, MIDI as 4 numbers. */
  args: HostValue[];
  /** Seconds since 1970 (fractional); 0 means "immediately"; null outside a bundle. */
  timeTag: number | null;
}

const BUNDLE_HEAD = Buffer.from("#bundle\0", "latin1");
const NTP_TO_UNIX = 2208988800;
const MAX_BUNDLE_DEPTH = 8;

/** Every message in the packet. Throws an Error describing the first malformation found. */
export function decodePacket(buf: Buffer): OscMessage[] {
  const out: OscMessage[] = [];
  decodeInto(buf, null, out, 0);
  return out;
}

function decodeInto(buf: Buffer, timeTag: number | null, out: OscMessage[], depth: number): void {
  if (buf.length >= 8 && buf.subarray(0, 8).equals(BUNDLE_HEAD)) {
    if (depth >= MAX_BUNDLE_DEPTH) throw new Error(`bundles nested deeper than ${MAX_BUNDLE_DEPTH}`);
    if (buf.length < 16) throw new Error("bundle shorter than its time tag");
    const tag = readTimeTag(buf, 8);
    let off = 16;
    while (off < buf.length) {
      if (off + 4 > buf.length) throw new Error(`bundle element size cut short at byte ${off}`);
      const size = buf.readInt32BE(off);
      off += 4;
      if (size <= 0 || size % 4 !== 0 || off + size > buf.length) throw new Error(`bundle element at byte ${off - 4} claims ${size} bytes, ${buf.length - off} remain`);
      decodeInto(buf.subarray(off, off + size), tag, out, depth + 1);
      off += size;
    }
    return;
  }
  out.push(decodeMessage(buf, timeTag));
}

function decodeMessage(buf: Buffer, timeTag: number | null): OscMessage {
  if (buf.length === 0 || buf[0] !== 0x2f) throw new Error(`message does not start with an address pattern ("/...")`);
  const decoded = decode(buf) as { oscType?: string; address?: unknown; args?: { value: unknown }[] };
  if (decoded.oscType !== "message" || typeof decoded.address !== "string" || !Array.isArray(decoded.args)) throw new Error("not an OSC message");
  const types = typeTags(buf);
  if (types.length !== decoded.args.length) throw new Error(`type tags "${types}" do not match ${decoded.args.length} decoded arguments`);
  const args: HostValue[] = decoded.args.map((a, i) => argValue(types[i], a.value));
  return { path: decoded.address, types, args, timeTag };
}

/** The type tag string after the address (node-osc has validated its shape already). */
function typeTags(buf: Buffer): string {
  const afterAddress = paddedEnd(buf, 0);
  const end = buf.indexOf(0, afterAddress);
  if (end < 0) throw new Error("type tag string is not terminated");
  return buf.toString("latin1", afterAddress + 1, end);
}

function paddedEnd(buf: Buffer, start: number): number {
  const nul = buf.indexOf(0, start);
  if (nul < 0) throw new Error("string is not terminated");
  return start + Math.ceil((nul - start + 1) / 4) * 4;
}

function argValue(tag: string, v: unknown): HostValue {
  switch (tag) {
    case "i":
    case "s":
    case "T":
    case "F":
      return v as number | string | boolean;
    case "f":
      return new LuaFloat(v as number);
    case "N":
      return null;
    case "b":
      return { type: "blob", hex: (v as Buffer).toString("hex") };
    case "m":
      return [...(v as Buffer)];
    default:
      throw new Error(`unsupported argument type "${tag}"`);
  }
}

function readTimeTag(buf: Buffer, off: number): number {
  const seconds = buf.readUInt32BE(off);
  const fraction = buf.readUInt32BE(off + 4);
  if (seconds === 0 && fraction === 1) return 0;
  return seconds - NTP_TO_UNIX + fraction / 0x1_0000_0000;
}

type TypedArg = { type: string; value: unknown };

/**
 * Encodes one message. Integers in int32 range are sent as `i`, other numbers as `f`; tables
 * `{type="float"|"int"|"string"|"nil"|"true"|"false"|"blob", value=..., hex=...}` force a type
 * (the prelude tags Lua floats this way, so 2.0 is sent as a float).
 */
export function encodeMessage(path: string, args: HostValue[]): Buffer {
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new InvalidOperation(`osc.send: the address must be a string starting with "/", got ${JSON.stringify(path)}`, { path });
  }
  const typed = args.map((a, i) => encodeArg(a, i + 1, path));
  return encode({ oscType: "message", address: path, args: typed });
}

function encodeArg(a: HostValue, n: number, path: string): TypedArg {
  const bad = (why: string): InvalidOperation => new InvalidOperation(`osc.send ${path}: argument ${n} ${why}`, { path, argument: n });
  if (a === null) return { type: "N", value: null };
  if (a instanceof LuaFloat) return { type: "f", value: a.value };
  switch (typeof a) {
    case "boolean":
      return { type: a ? "T" : "F", value: a };
    case "string":
      return { type: "s", value: a };
    case "number":
      if (!Number.isInteger(a)) return { type: "f", value: a };
      if (a < -0x8000_0000 || a > 0x7fff_ffff) throw bad(`(${a}) does not fit a 32-bit OSC int; send it as osc.float(x) or a string`);
      return { type: "i", value: a };
  }
  if (Array.isArray(a)) throw bad("is a list; OSC arguments are single values (pass them one by one)");
  const t = a.type;
  switch (t) {
    case "float":
    case "int": {
      const v = a.value;
      if (typeof v !== "number") throw bad(`is {type="${t}"} without a numeric value`);
      if (t === "int" && (!Number.isInteger(v) || v < -0x8000_0000 || v > 0x7fff_ffff)) throw bad(`(${v}) is not a 32-bit integer`);
      return { type: t === "int" ? "i" : "f", value: v };
    }
    case "string":
      return { type: "s", value: String(a.value ?? "") };
    case "nil":
      return { type: "N", value: null };
    case "blob": {
      const hex = a.hex;
      if (typeof hex !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw bad("is a blob without valid hex bytes (build blobs with osc.blob(bytes))");
      return { type: "b", value: Buffer.from(hex, "hex") };
    }
    default:
      throw bad(`is a table OSC cannot send (type=${JSON.stringify(t ?? null)}); use a number, string, boolean, nil, osc.float(x), osc.int(x) or osc.blob(bytes)`);
  }
}
