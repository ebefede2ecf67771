/** The runtime's light face: a recorded profile as a table and as a speedscope file, without the runtime itself (the CLI prints them). */
export { profileTable, speedscopeFile } from "./run-profile.ts";
