/**
 * Show I/O for scripts: OSC, MIDI and HTTP as capability-gated Lua modules. Each module is a
 * function from an IoContext to host bindings; `ioPreludeLua` gives them their Lua objects.
 * See docs/show-io.md.
 */
export type { IoContext, IoLogLevel, IoSeams, UdpSocket } from "./io-context.ts";
export type { HttpClientRequest, HttpClientResponse } from "./http-client.ts";
export { oscBindings } from "./osc.ts";
export { midiBindings } from "./midi.ts";
export { httpBindings, HTTP_DEFAULTS } from "./http.ts";
export { HttpServer, PendingRequest, enqueueRequest, requestInbox, requestView } from "./http-server.ts";
export type { HttpReply, HttpServerOptions } from "./http-server.ts";
export { realTimer } from "./run-timer.ts";
export { Inbox } from "./inbox.ts";
export type { InboxOptions } from "./inbox.ts";
export type { RunTimer, TimerKind } from "./run-timer.ts";
export { ioPreludeLua } from "./prelude.ts";
export type { MidiInput, MidiOutput, MidiPort } from "./midi-port.ts";
export { VirtualMidiPort } from "./virtual-midi-port.ts";
export { createNativeMidiPort } from "./native-midi-port.ts";
export { decodeMidi, encodeMidi } from "./midi-message.ts";
export type { MidiEvent } from "./midi-message.ts";
export { decodePacket, encodeMessage } from "./osc-packet.ts";
export type { OscMessage } from "./osc-packet.ts";
