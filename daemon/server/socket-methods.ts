/**
 * The methods as a connection sees them. `ServedMethods` layers a few methods
 * of its own over the shared registry (the owner-only socket adds
 * `invite.create`, which hands out the workspace key and must never reach the
 * web console) and can reword errors on the way out, e.g. to put entity
 * names beside ids.
 */
import { MethodRegistry } from "./method-registry.ts";

export interface ServedMethodsOptions {
  /** Applied to every error a handler throws, before it is sent. */
  describeError?: (e: unknown) => unknown;
}

export class ServedMethods extends MethodRegistry {
  constructor(
    private readonly shared: MethodRegistry,
    private readonly opts: ServedMethodsOptions = {},
  ) {
    super();
  }

  override get(name: string): ReturnType<MethodRegistry["get"]> {
    const entry = super.get(name) ?? this.shared.get(name);
    const describe = this.opts.describeError;
    if (entry === undefined || describe === undefined) return entry;
    return {
      check: entry.check,
      handler: async (params, ctx) => {
        try {
          return await entry.handler(params, ctx);
        } catch (e) {
          throw describe(e);
        }
      },
    };
  }

  override names(): string[] {
    return [...new Set([...super.names(), ...this.shared.names()])].sort();
  }
}
