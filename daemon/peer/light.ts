/**
 * The peer's light face: `--listen` / `[peer] listen` checks and the workspace key, without
 * libp2p (the CLI checks its flags and writes a new show's key before any network code loads).
 */
export * from "./listen-ports.ts";
export * from "./workspace-key.ts";
