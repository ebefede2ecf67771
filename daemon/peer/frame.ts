import { Uint8ArrayList } from "uint8arraylist";

/**
 * Wire frames of /openprod/sync/1.0.0: an unsigned LEB128 varint length, then
 * that many bytes: one kind byte and the payload.
 */

export const FrameKind = { Hello: 0, Sync: 1, Error: 2 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export interface Frame {
  kind: FrameKind;
  payload: Uint8Array;
}

/** Why the byte stream from a peer cannot be framed; the connection is dropped with this text. */
export class FrameError extends Error {
  override readonly name = "FrameError";
}

// 5 varint bytes carry 35 bits, far beyond any sane limit; more is garbage.
const MAX_LENGTH_BYTES = 5;

export function encodeFrame(kind: FrameKind, payload: Uint8Array): Uint8Array {
  const bodyLength = payload.byteLength + 1;
  const header: number[] = [];
  let n = bodyLength;
  while (n >= 0x80) {
    header.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  header.push(n);
  const out = new Uint8Array(header.length + bodyLength);
  out.set(header, 0);
  out[header.length] = kind;
  out.set(payload, header.length + 1);
  return out;
}

/**
 * Incremental decoder: feed it chunks as they arrive, get whole frames back.
 * It rejects a declared length above `maxFrameBytes` before buffering it, so
 * a hostile peer cannot make us allocate.
 */
export class FrameDecoder {
  private readonly buffer = new Uint8ArrayList();
  private expected: number | null = null;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes of an unfinished frame are buffered (the caller arms a stall timer while this is true). */
  get midFrame(): boolean {
    return this.buffer.byteLength > 0;
  }

  /** What has arrived of the unfinished frame, for log messages. */
  describePartial(): string {
    return this.expected === null
      ? `${this.buffer.byteLength} byte(s) of a length prefix`
      : `${this.buffer.byteLength} of ${this.expected} byte(s)`;
  }

  push(chunk: Uint8Array | Uint8ArrayList): Frame[] {
    this.buffer.append(chunk);
    const frames: Frame[] = [];
    for (;;) {
      if (this.expected === null) {
        const length = this.readLength();
        if (length === null) return frames;
        this.expected = length;
      }
      if (this.buffer.byteLength < this.expected) return frames;
      const body = this.buffer.subarray(0, this.expected);
      this.buffer.consume(this.expected);
      this.expected = null;
      frames.push(toFrame(body));
    }
  }

  private readLength(): number | null {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < this.buffer.byteLength; i++) {
      if (i >= MAX_LENGTH_BYTES) throw new FrameError(`frame length prefix longer than ${MAX_LENGTH_BYTES} bytes (garbage on the wire?)`);
      const byte = this.buffer.get(i);
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) {
        if (value === 0) throw new FrameError("empty frame (length 0) is not allowed");
        if (value > this.maxFrameBytes + 1) {
          throw new FrameError(`frame of ${value} bytes exceeds the limit of ${this.maxFrameBytes} bytes`);
        }
        this.buffer.consume(i + 1);
        return value;
      }
    }
    if (this.buffer.byteLength >= MAX_LENGTH_BYTES) {
      throw new FrameError(`frame length prefix longer than ${MAX_LENGTH_BYTES} bytes (garbage on the wire?)`);
    }
    return null;
  }
}

function toFrame(body: Uint8Array): Frame {
  const kind = body[0];
  if (kind !== FrameKind.Hello && kind !== FrameKind.Sync && kind !== FrameKind.Error) {
    throw new FrameError(`unknown frame kind ${kind} (garbage on the wire, or a newer protocol?)`);
  }
  return { kind, payload: body.subarray(1) };
}
