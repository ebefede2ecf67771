// The layers point one way, and lint holds them to it: an import the architecture forbids fails
// `npm test` (through eslint) before it can land.
import path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const eslint = new ESLint({ cwd: ROOT });

async function refusals(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("lint enforces the direction of the layers", () => {
  it("the store (daemon/crdt) may not import the parts built on it", async () => {
    for (const target of ["../scripts/index.ts", "../triggers/index.ts", "../peer/index.ts", "../server/index.ts", "../../cli/index.ts"]) {
      expect(await refusals("daemon/crdt/persistence/zz-layer.ts", `import { x } from "${target}";\nexport const y = x;\n`), target).toEqual([
        "'" + target + "' import is restricted from being used by a pattern. daemon/crdt is the bottom layer: it imports none of scripts, triggers, peer, server, cli or console.",
      ]);
    }
    expect(await refusals("daemon/crdt/zz-layer.ts", `import { x } from "./errors.ts";\nexport const y = x;\n`)).toEqual([]);
  });

  it("the Lua engine imports nothing else of the daemon", async () => {
    expect(await refusals("daemon/scripts/engine/zz-layer.ts", `import { x } from "../runtime/index.ts";\nexport const y = x;\n`)).toHaveLength(1);
    expect(await refusals("daemon/scripts/engine/zz-layer.ts", `import { x } from "../../crdt/errors.ts";\nexport const y = x;\n`)).toHaveLength(1);
    expect(await refusals("daemon/scripts/engine/zz-layer.ts", `import { x } from "./types.ts";\nexport const y = x;\n`)).toEqual([]);
  });
});
