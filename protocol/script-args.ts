/** A script's declared arguments (`[script.<name>.args]`), as `scripts.list` reports them. */

export const SCRIPT_ARG_TYPES = ["string", "int", "float", "bool", "entity", "json"] as const;
export type ScriptArgType = (typeof SCRIPT_ARG_TYPES)[number];

export interface ScriptArgSpec {
  name: string;
  type: ScriptArgType;
  help: string;
  /** Without a default an argument is required (unless `required = false`). */
  required: boolean;
  default?: unknown;
}
