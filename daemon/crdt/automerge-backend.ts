/**
 * Direct access to Automerge's backend (the wasm document handle), which we
 * use instead of the proxy `change()` API: a per-op cost that does not grow
 * with workspace size, changes we can name and persist, and sync states we
 * hold per peer.
 *
 * The low-level API object (create/load/sync-state codecs) is not in the
 * package's export map; we import the very module instance the package's own
 * entry point uses (same URL → same wasm instance), so handles and sync states
 * from both sides are interchangeable.
 */
import * as Automerge from "@automerge/automerge";
import type { API } from "@automerge/automerge/slim";

export type Backend = ReturnType<typeof Automerge.getBackend>;
export type WasmSyncState = Parameters<Backend["generateSyncMessage"]>[0];
export type Heads = string[];

const entry = import.meta.resolve("@automerge/automerge");
const lowLevel = (await import(new URL("../low_level.js", entry).href)) as { ApiHandler: API };

export const api: API = lowLevel.ApiHandler;
export { Automerge };

export function createBackend(actor?: string): Backend {
  return api.create(actor ? { actor } : {});
}

export function loadBackend(bytes: Uint8Array, actor?: string): Backend {
  return api.load(bytes, actor ? { actor } : {});
}
