/** The simulated world of one test: network (OSC, HTTP), MIDI devices, and when fed runs went quiet. */
export { SimOsc, SIM_OSC_FROM } from "./osc.ts";
export type { SentOsc } from "./osc.ts";
export { SimHttp, SIM_HTTP_FROM } from "./http.ts";
export type { SeenRequest, SimAnswer, SimExchange, SimRequest, SimResponse } from "./http.ts";
export { simIoSeams } from "./seams.ts";
export { SimFileWatch } from "./file-watch.ts";
export { SimMidi } from "./midi.ts";
export { RunQuiet, QUIET_GRACE_MS } from "./quiet.ts";
export { ScriptSpies } from "./spies.ts";
export { ShowFiles } from "./show-files.ts";
export { SimPeer, SIM_PEER_ID, syncSessions } from "./peer.ts";
