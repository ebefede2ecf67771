/**
 * What an overlay is layered over: canonical as of a snapshot (Automerge heads) or as it is now.
 */
import { EntityNotFound } from "../../crdt/vocabulary.ts";
import type { EdgeState, EntityView, FieldValue, Heads, QuerySource, WorkspaceStore } from "../../crdt/index.ts";

export interface OverlayBase {
  /** Undefined: current canonical. */
  readonly heads: Heads | undefined;
  isLive(id: string): boolean;
  /** Throws EntityNotFound. */
  facetsOf(id: string): string[];
  /** Throws EntityNotFound. */
  entity(id: string): EntityView;
  /** One field by full key (nil: unset). Throws EntityNotFound. */
  field(id: string, key: string): FieldValue;
  edge(id: string): EdgeState | null;
  edgesOf(entity: string): EdgeState[];
  edgesTo(target: string, type: string): EdgeState[];
  querySource(): QuerySource;
}

export function storeBase(store: WorkspaceStore, heads?: Heads): OverlayBase {
  const opts = heads ? { heads } : {};
  return {
    heads,
    isLive: (id) => store.entityExists(id, opts),
    facetsOf: (id) => {
      try {
        return store.facetsOf(id, opts);
      } catch (e) {
        throw notFound(e, id);
      }
    },
    entity: (id) => {
      try {
        return store.getEntity(id, opts);
      } catch (e) {
        throw notFound(e, id);
      }
    },
    field: (id, key) => {
      try {
        return store.getField(id, key, opts);
      } catch (e) {
        throw notFound(e, id);
      }
    },
    edge: (id) => store.edge(id, opts),
    edgesOf: (entity) => store.edgesOf(entity, opts),
    edgesTo: (target, type) => store.edgesOf(target, { ...opts, type, direction: "in" }),
    querySource: () => store.querySource(heads),
  };
}

function notFound(e: unknown, id: string): unknown {
  if (e instanceof EntityNotFound) return e;
  return new EntityNotFound(`entity ${id} does not exist`, { entity: id });
}
