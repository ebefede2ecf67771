/**
 * The methods of the owner-only Unix socket: every shared method (the web
 * console serves those too) plus a few that must never leave this machine's
 * owner, such as `invite.create`, which hands out the workspace key.
 */
import { MethodRegistry } from "./method-registry.ts";

export class SocketMethods extends MethodRegistry {
  constructor(private readonly shared: MethodRegistry) {
    super();
  }

  override get(name: string): ReturnType<MethodRegistry["get"]> {
    return super.get(name) ?? this.shared.get(name);
  }

  override names(): string[] {
    return [...new Set([...super.names(), ...this.shared.names()])].sort();
  }
}
