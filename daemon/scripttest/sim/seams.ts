/**
 * The io seams of one run in a test (IoSeams): UDP, outgoing HTTP and HTTP servers of the
 * simulated network, file changes for fs.watch, timeouts on the virtual clock, and "waiting
 * for input" heard by the test. Every capability check stays in the io modules, as live.
 */
import type { IoSeams } from "../../scripts/io/index.ts";
import type { SimFileWatch } from "./file-watch.ts";
import type { SimHttp } from "./http.ts";
import type { SimOsc } from "./osc.ts";
import type { RunQuiet } from "./quiet.ts";

export function simIoSeams(world: { quiet: RunQuiet; osc: SimOsc; http: SimHttp; files: SimFileWatch }, runId: string): IoSeams {
  const { quiet, osc, http, files } = world;
  return {
    fs: files.seamsFor(runId),
    udp: osc.socketsFor(runId),
    fetch: http.fetchFor(runId),
    httpServer: http.serverFor(runId),
    timer: http.timerFor(runId),
    waiting: () => {
      http.idle(runId);
      quiet.quiet(runId);
    },
  };
}
