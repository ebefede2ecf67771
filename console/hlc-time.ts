/** An HLC timestamp as clock time a person reads (date when not today). */
import { parseHlc } from "../protocol/light.ts";

export function hlcTime(hlc: string): string {
  try {
    const d = new Date(parseHlc(hlc).wall);
    const today = new Date().toDateString() === d.toDateString();
    return today ? d.toLocaleTimeString() : d.toLocaleString();
  } catch {
    return hlc;
  }
}
