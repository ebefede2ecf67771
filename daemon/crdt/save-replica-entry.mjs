// Worker entry for the save replica: makes TypeScript importable in this thread (the daemon may
// run under tsx, vitest or `node --import tsx`; a worker inherits none of their loaders
// reliably), then starts the TypeScript worker.
import { register } from "tsx/esm/api";

register();
await import("./save-replica-worker.ts");
