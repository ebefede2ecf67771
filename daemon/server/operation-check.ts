/** Run-time check of the operation vocabulary (daemon/crdt/operations.ts) as received over the socket. */
import type { CrdtEdit, Operation } from "../crdt/vocabulary.ts";
import { InvalidParams, int, list, nonEmpty, obj, oneOf, opt, record, str, value, bool } from "./params.ts";
import type { Check } from "./params.ts";

const fields = record(value);
const ids = list(nonEmpty);

const OPS = {
  CreateEntity: obj({ op: str, id: opt(nonEmpty), tables: opt(ids), facets: opt(ids), fields: opt(fields) }),
  DeleteEntity: obj({ op: str, id: nonEmpty }),
  SetField: obj({ op: str, id: nonEmpty, field: nonEmpty, value }),
  ApplyCRDT: obj({ op: str, id: nonEmpty, field: nonEmpty, edit: (v, p) => crdtEdit(v, p) }),
  AddToTable: obj({ op: str, id: nonEmpty, table: nonEmpty, membership: opt(fields) }),
  RemoveFromTable: obj({ op: str, id: nonEmpty, table: nonEmpty }),
  AttachFacet: obj({ op: str, id: nonEmpty, facet: nonEmpty, fields: opt(fields) }),
  DetachFacet: obj({ op: str, id: nonEmpty, facet: nonEmpty, preserve: opt(bool) }),
  CreateEdge: obj({ op: str, edgeId: opt(nonEmpty), type: nonEmpty, source: nonEmpty, target: nonEmpty, properties: opt(fields) }),
  DeleteEdge: obj({ op: str, edgeId: nonEmpty }),
  CreateOrderedEdge: obj({
    op: str,
    edgeId: opt(nonEmpty),
    type: nonEmpty,
    source: nonEmpty,
    target: nonEmpty,
    after: opt(nonEmpty),
    before: opt(nonEmpty),
    properties: opt(fields),
  }),
  MoveOrderedEdge: obj({ op: str, edgeId: nonEmpty, after: opt(nonEmpty), before: opt(nonEmpty) }),
  MergeEntities: obj({ op: str, into: nonEmpty, from: nonEmpty, resolution: opt(fields) }),
  SplitEntity: obj({ op: str, source: nonEmpty, distribution: record(ids) }),
  ResolveConflict: obj({ op: str, conflictId: nonEmpty, value }),
} satisfies Record<Operation["op"], Check<unknown>>;

export const OPERATION_NAMES = Object.keys(OPS) as Operation["op"][];

const EDITS: Record<CrdtEdit["kind"], Check<unknown>> = {
  "text.insert": obj({ kind: str, index: int(0), text: str }),
  "text.delete": obj({ kind: str, start: int(0), end: int(0) }),
  "text.replace": obj({ kind: str, start: int(0), end: int(0), text: str }),
  "list.insert": obj({ kind: str, index: int(0), value }),
  "list.append": obj({ kind: str, value }),
  "list.remove": obj({ kind: str, value }),
  "list.remove_at": obj({ kind: str, index: int(0) }),
};

function crdtEdit(v: unknown, p: string): CrdtEdit {
  const kind = typeof v === "object" && v !== null && "kind" in v ? (v as { kind: unknown }).kind : undefined;
  oneOf(Object.keys(EDITS) as CrdtEdit["kind"][])(kind, `${p}.kind`);
  return EDITS[kind as CrdtEdit["kind"]](v, p) as CrdtEdit;
}

export const operation: Check<Operation> = (v, p) => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new InvalidParams(p, "expected an operation object ({op: ...})");
  const name = oneOf(OPERATION_NAMES)((v as { op?: unknown }).op, `${p}.op`);
  return OPS[name](v, p) as Operation;
};
