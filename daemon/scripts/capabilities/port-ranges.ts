/**
 * Port lists as written in `net.osc:<ports>`: one port (`8000`), a range
 * (`8000-8010`) or a comma-separated mix (`8000,8002,9000-9001`).
 */

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** The ranges of a port list, or the reason it is not one. */
export function parsePortList(text: string): PortRange[] | string {
  if (text.trim() === "") return "the port list is empty";
  const ranges: PortRange[] = [];
  for (const raw of text.split(",")) {
    const part = raw.trim();
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) return `"${part}" is not a port or a range like 8000-8010`;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (const p of [from, to]) if (!isPort(p)) return `${p} is not a port (1-65535)`;
    if (to < from) return `the range ${part} runs backwards; write ${to}-${from}`;
    ranges.push({ from, to });
  }
  return ranges;
}

export function parsePort(text: string): number | string {
  if (!/^\d+$/.test(text.trim())) return `"${text}" is not a port number`;
  const p = Number(text);
  return isPort(p) ? p : `${p} is not a port (1-65535)`;
}

export function inRanges(ranges: readonly PortRange[], port: number): boolean {
  for (const r of ranges) if (port >= r.from && port <= r.to) return true;
  return false;
}

function isPort(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}
