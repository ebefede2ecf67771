/**
 * Compiled by `tsc --noEmit` (npm test's typecheck), never run: the method
 * registry is typed by the protocol's method map, so each `@ts-expect-error`
 * below marks a registration `tsc` refuses. Should the registry ever stop
 * refusing one, its directive becomes unused and the typecheck fails.
 */
import { MethodRegistry } from "../../daemon/server/method-registry.ts";
import { int, nonEmpty, obj, opt, str } from "../../daemon/server/params.ts";
import type { BundleResult } from "../../protocol/index.ts";

const methods = new MethodRegistry();
const bundle: BundleResult = { hash: null, hlc: "000000000000001-000000-p", results: [], changes: [] };

// Right: the check yields the method's params, the handler returns its result.
methods.register("entity.delete", obj({ id: nonEmpty }), () => bundle);
methods.register("runs.list", obj({ limit: opt(int(1)), script: opt(nonEmpty) }), async () => ({ runs: [] }));

// A method the protocol does not name.
// @ts-expect-error "entity.destroy" is not a method of the map
methods.register("entity.destroy", obj({ id: nonEmpty }), () => bundle);

// A handler whose result is not the method's result.
// @ts-expect-error entity.delete answers a BundleResult, not { ok }
methods.register("entity.delete", obj({ id: nonEmpty }), () => ({ ok: true }));

// An async handler whose promised result is wrong.
// @ts-expect-error runs.list answers { runs: RunListEntry[] }
methods.register("runs.list", obj({}), async () => ({ runs: [{ runId: 1 }] }));

// A check that yields params of another shape (a number where the protocol has a string id).
// @ts-expect-error entity.delete takes { id: string }
methods.register("entity.delete", obj({ id: int(0) }), () => bundle);

// A check that forgets a required param.
// @ts-expect-error table.add needs id and table
methods.register("table.add", obj({ id: nonEmpty }), () => bundle);

// A handler that reads a param the protocol does not give.
methods.register("unsubscribe", obj({ subscription: str }), (p) => {
  // @ts-expect-error unsubscribe's params have no "force"
  const force: boolean = p.force;
  return { ok: force };
});
