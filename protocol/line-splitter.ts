/**
 * Newline-delimited framing with a size bound. A line longer than the bound
 * is reported once, as soon as it crosses the bound, and then skipped up to
 * its newline: the stream stays usable for the next message.
 */

export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversized: (bytesSoFar: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) {
        this.append(chunk.subarray(start));
        return;
      }
      this.append(chunk.subarray(start, nl));
      start = nl + 1;
      const wasDiscarding = this.discarding;
      const line = wasDiscarding ? "" : Buffer.concat(this.parts, this.size).toString("utf8");
      this.parts = [];
      this.size = 0;
      this.discarding = false;
      if (!wasDiscarding) this.onLine(line);
    }
  }

  /** The stream ended: a last message without its newline is still a message. */
  end(): void {
    const wasDiscarding = this.discarding;
    const line = wasDiscarding || this.size === 0 ? null : Buffer.concat(this.parts, this.size).toString("utf8");
    this.parts = [];
    this.size = 0;
    this.discarding = false;
    if (line !== null) this.onLine(line);
  }

  private append(piece: Buffer): void {
    if (piece.length === 0) return;
    this.size += piece.length;
    if (this.discarding) return;
    if (this.size > this.maxBytes) {
      this.discarding = true;
      this.parts = [];
      this.onOversized(this.size);
      return;
    }
    this.parts.push(piece);
  }
}
