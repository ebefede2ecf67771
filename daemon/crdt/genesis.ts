/**
 * Every peer of a workspace starts from the same first change, made with a
 * fixed actor and time from the workspace id. Its root maps (entities, edges,
 * clashes) are therefore the same objects on every peer; two peers creating
 * their own root maps would shadow each other's data on merge.
 */
import { createHash } from "node:crypto";
import { createBackend } from "./automerge-backend.ts";
import { CLASHES, EDGES, ENTITIES } from "./layout.ts";

function genesisActor(workspaceId: string): string {
  return createHash("sha256").update(`openprod-genesis:${workspaceId}`).digest("hex").slice(0, 32);
}

export function genesisChange(workspaceId: string): Uint8Array {
  const be = createBackend(genesisActor(workspaceId));
  be.putObject("_root", ENTITIES, {});
  be.putObject("_root", EDGES, {});
  be.putObject("_root", CLASHES, {});
  be.put("_root", "workspace", workspaceId);
  const hash = be.commit(JSON.stringify({ v: 1, genesis: true, workspace: workspaceId }), 0);
  if (!hash) throw new Error("genesis change was empty");
  const bytes = be.getChangeByHash(hash);
  be.free();
  if (!bytes) throw new Error("genesis change could not be read back");
  return bytes;
}
