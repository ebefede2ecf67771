// The layers point one way, and lint holds them to it: an import the architecture forbids fails
// `npm test` (through eslint) before it can land.
import path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const eslint = new ESLint({ cwd: ROOT });

async function refusals(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === "no-restricted-imports" || m.ruleId === "no-restricted-syntax").map((m) => m.message);
}

const code = (line: string): string => `${line}\nexport const y = typeof x;\n`;

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
    // The wire's browser-safe face is the one thing outside it the engine may name (its types).
    expect(await refusals("daemon/scripts/engine/zz-layer.ts", `import type { ScriptProfile } from "../../../protocol/light.ts";\nexport type y = ScriptProfile;\n`)).toEqual([]);
    expect(await refusals("daemon/scripts/engine/zz-layer.ts", `import { x } from "../../../protocol/index.ts";\nexport const y = x;\n`)).toHaveLength(1);
  });

  it("the wire contract (protocol/) imports nothing of the daemon or the console", async () => {
    for (const target of ["../daemon/crdt/index.ts", "../daemon/crdt/errors.ts", "../daemon/peer/index.ts", "../daemon/scripts/runtime/index.ts", "../console/wire.ts"]) {
      expect(await refusals("protocol/zz-layer.ts", code(`import { x } from "${target}";`)), target).toHaveLength(1);
    }
    expect(await refusals("protocol/zz-layer.ts", code(`import { x } from "./errors.ts";`))).toEqual([]);
  });

  it("the web console imports the protocol, never the daemon", async () => {
    expect(await refusals("console/zz-layer.ts", code(`import { x } from "../daemon/crdt/entity-name.ts";`))).toHaveLength(1);
    expect(await refusals("console/components/zz-layer.tsx", code(`import { x } from "../../daemon/server/index.ts";`))).toHaveLength(1);
    expect(await refusals("console/zz-layer.ts", code(`import { x } from "../protocol/light.ts";`))).toEqual([]);
    // The console is bundled for a browser: the protocol's index brings the Node socket client.
    expect(await refusals("console/zz-layer.ts", code(`import { x } from "../protocol/index.ts";`))).toHaveLength(1);
  });

  it("the CLI reaches the daemon through protocol/ and daemon/offline/index.ts alone, static or lazy imports", async () => {
    const refused = [
      'import { x } from "../crdt/errors.ts";',
      'import { x } from "../crdt/index.ts";',
      'import { x } from "../scripts/runtime/run-profile.ts";',
      'import { x } from "../server/index.ts";',
      'import { x } from "../peer/listen-ports.ts";',
      'import { x } from "../triggers/index.ts";',
      'import { x } from "../offline/store-reader.ts";',
      'import { x } from "../scripttest/runner.ts";',
      'const x = () => import("../crdt/recover.ts");',
      'const x = () => import("../server/peer-settings.ts");',
      'const x = () => import("../offline/store-files.ts");',
    ];
    for (const line of refused) expect(await refusals("daemon/cli/zz-layer.ts", code(line)), line).toHaveLength(1);
    const allowed = [
      'import { x } from "../../protocol/index.ts";',
      'import { x } from "../offline/index.ts";',
      'import { x } from "../config/index.ts";',
      'import { x } from "./args.ts";',
      'const x = () => import("../offline/index.ts");',
      'const x = () => import("../config/index.ts");',
      'const x = () => import("./init-show.ts");',
      // `openprod daemon` and `openprod test` start the daemon's entry point and the script test runner.
      'import type * as x from "../main.ts";',
      'import type * as x from "../scripttest/index.ts";',
    ];
    for (const line of allowed) expect(await refusals("daemon/cli/zz-layer.ts", code(line)), line).toEqual([]);
  });

  it("a folder is entered through its index.ts (or crdt's vocabulary.ts), never past it", async () => {
    const faces = async (file: string, line: string): Promise<string[]> => {
      const [result] = await eslint.lintText(code(line), { filePath: path.join(ROOT, file) });
      return result.messages.filter((m) => m.ruleId === "openprod/public-faces").map((m) => m.message);
    };
    expect(await faces("daemon/server/zz-face.ts", 'import { x } from "../crdt/errors.ts";')).toEqual([
      '"../crdt/errors.ts" reaches past the public face of daemon/crdt: import it from daemon/crdt/index.ts (or its light face), exporting it there if need be.',
    ]);
    expect(await faces("daemon/triggers/zz-face.ts", 'const x = () => import("../scripts/runtime/run-types.ts");')).toHaveLength(1);
    expect(await faces("daemon/zz-face.ts", 'export { x } from "./server/socket-methods.ts";')).toHaveLength(1);
    expect(await faces("console/zz-face.tsx", 'import { x } from "./components/App.tsx";')).toHaveLength(1);
    for (const ok of ['import { x } from "../crdt/vocabulary.ts";', 'import { x } from "../crdt/index.ts";', 'import { x } from "./params.ts";', 'import { x } from "../../protocol/index.ts";']) {
      expect(await faces("daemon/server/zz-face.ts", ok), ok).toEqual([]);
    }
    // A file reaches its own rooms (the folders above it), and a face gathers what lies beneath it.
    expect(await faces("daemon/crdt/persistence/zz-face.ts", 'import { x } from "../errors.ts";')).toEqual([]);
    expect(await faces("daemon/scripts/native/index.ts", 'export { x } from "./lightwright/lightwright-xml.ts";')).toEqual([]);
  });
});
