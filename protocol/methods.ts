/**
 * The socket's methods: name → params and result. The daemon validates params
 * at run time (see daemon/server/params.ts); these types are what clients
 * compile against. Services plugged in later (scripts.*, sessions.*,
 * triggers.*, dialog.respond, capabilities.revoke) extend `Methods` by
 * declaration merging from their own files.
 */
import type {
  BulkConflict,
  BundleChanges,
  BundleInfo,
  ConflictRecord,
  EdgeState,
  EntityState,
  FieldChange,
  FieldValue,
  Fields,
  OpResult,
  Operation,
} from "../daemon/crdt/index.ts";
import type { PeerInfo } from "../daemon/peer/index.ts";
import type { EventType } from "./events.ts";

export type { BundleChanges, BundleInfo, FieldValue, Fields, Operation, FieldChange, BulkConflict, ConflictRecord, EdgeState, PeerInfo };

export interface EntityView extends EntityState {
  fields: Record<string, FieldValue>;
  /** How the entity is shown: its table's `display` template filled in, or the fallback (daemon/crdt/entity-name.ts). */
  name: string;
  /** Tables of the entity that this peer's modules do not declare (another peer runs other modules): their fields are not shown. */
  undeclaredTables?: string[];
}

/** What a write returns: the bundle made (hash null when nothing changed). */
export interface BundleResult {
  hash: string | null;
  hlc: string;
  results: OpResult[];
  changes: FieldChange[];
}

export interface StatusResult {
  version: string;
  pid: number;
  showDir: string;
  socket: string;
  workspace: { id: string; name: string };
  peerId: string;
  /** `[peer] name` of openprod.toml, default the hostname. */
  peerName: string;
  addresses: string[];
  peers: number;
  entities: number;
  conflicts: number;
  bulkConflicts: number;
  heads: string[];
  /** Records this peer's storage has appended (a local counter: differs between peers). */
  changes: number;
  /** Bundles in the workspace history: equal on every peer whose heads are equal. */
  bundles: number;
  uptimeMs: number;
  client: string;
}

export interface SchemaResult {
  facets: { key: string; module: string; name: string; fields: { name: string; key: string; type: string }[] }[];
  tables: { name: string; module: string; facets: string[] }[];
  edgeTypes: { name: string; module: string; ordered: boolean }[];
}

export interface Methods {
  /** Names the client; bundles it writes carry actor {kind:"app", name}, or {kind:"user", name: user} when `user` is given. */
  hello: { params: { name: string; user?: string }; result: { name: string; peerId: string; workspace: string; version: string } };
  status: { params: Record<string, never>; result: StatusResult };
  schema: { params: Record<string, never>; result: SchemaResult };
  /** `expr` in the query language; `?` placeholders bound from `params` in order. */
  query: { params: { expr: string; params?: FieldValue[]; limit?: number; idsOnly?: boolean }; result: { count: number; ids: string[]; entities?: EntityView[] } };
  /** The whole entity, or one field (any addressing form) when `field` is given. */
  get: { params: { id: string; field?: string }; result: { entity: EntityView } | { id: string; field: string; value: FieldValue } };
  /** The display name of each id (ids of entities not in the workspace are left out). */
  "entities.names": { params: { ids: string[] }; result: { names: Record<string, string> } };
  /** Several entities at once (at most 5000), in the order asked; null for an id that is deleted or unknown. */
  "entities.get": { params: { ids: string[] }; result: { entities: (EntityView | null)[] } };
  /** Bundles newest first. */
  /** With `changes`, each bundle also lists what it changed (at most 50; `more` counts the rest). */
  history: { params: { entity?: string; limit?: number; changes?: boolean }; result: { bundles: (BundleInfo & Partial<BundleChanges>)[] } };
  /** Any operations of the vocabulary, as one atomic bundle. */
  apply: { params: { ops: Operation[]; origin?: Record<string, unknown> }; result: BundleResult };
  "entity.create": { params: { id?: string; tables?: string[]; facets?: string[]; fields?: Fields }; result: BundleResult & { id: string } };
  /** One field (`field` + `value`) or several (`fields`), one bundle. */
  "entity.set": { params: { id: string; field?: string; value?: FieldValue; fields?: Fields }; result: BundleResult };
  "entity.delete": { params: { id: string }; result: BundleResult };
  "table.add": { params: { id: string; table: string; membership?: Fields }; result: BundleResult };
  "table.remove": { params: { id: string; table: string }; result: BundleResult };
  "edge.create": {
    params: { type: string; source: string; target: string; properties?: Fields; edgeId?: string; after?: string; before?: string };
    result: BundleResult & { edgeId: string };
  };
  "edge.delete": { params: { edgeId: string }; result: BundleResult };
  "edge.move": { params: { edgeId: string; after?: string; before?: string }; result: BundleResult };
  /** Live edges touching an entity (`direction` "out": it is the source; "in": the target; default both). */
  "edges.list": { params: { entity: string; type?: string; direction?: "out" | "in" | "both" }; result: { edges: EdgeState[] } };
  /** The ordered edges of `type` pointing at `target`, in running order (a cue list). */
  "edges.ordered": { params: { target: string; type: string }; result: { edges: EdgeState[] } };
  "conflicts.list": { params: Record<string, never>; result: { conflicts: ConflictRecord[]; bulk: BulkConflict[] } };
  /** Give `value`, or `keep` "ours" (this peer's value) / "theirs" (the other peer's). */
  "conflicts.resolve": { params: { id: string; value?: FieldValue; keep?: "ours" | "theirs" }; result: BundleResult };
  /** `keep`: "ours", "theirs", or a change set id from the bulk conflict's sides. */
  "conflicts.resolveBulk": { params: { id: string; keep: string }; result: BundleResult };
  "peers.list": { params: Record<string, never>; result: { peerId: string; peerName: string; addresses: string[]; peers: PeerInfo[] } };
  /** Dial a peer (multiaddr with /p2p/<id>) and wait until sync is up; it is then kept connected. */
  "peers.connect": { params: { addr: string }; result: { peers: PeerInfo[] } };
  /** Start a stream of `event` notifications; `events` filters by type (default: all). */
  subscribe: { params: { events?: EventType[] }; result: { subscription: string } };
  unsubscribe: { params: { subscription: string }; result: { ok: boolean } };
}

export type MethodName = keyof Methods;
export type ParamsOf<M extends MethodName> = Methods[M]["params"];
export type ResultOf<M extends MethodName> = Methods[M]["result"];
