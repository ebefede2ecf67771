// The wire contract stands alone: protocol/ compiles with nothing of daemon/ or console/ in the
// program, so another app (or the web console) can build against it without the daemon's code.
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");

describe("the protocol is the bottom layer", () => {
  it("protocol/index.ts compiles on its own, pulling in no file outside protocol/", () => {
    const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    if (!config) throw new Error("tsconfig.json does not parse");
    const program = ts.createProgram([path.join(ROOT, "protocol", "index.ts")], { ...config.options, noEmit: true });
    const ours = program
      .getSourceFiles()
      .map((f) => path.relative(ROOT, f.fileName))
      .filter((f) => !f.startsWith("node_modules") && !f.startsWith(".."));
    expect(ours.filter((f) => !f.startsWith("protocol/"))).toEqual([]);
    expect(ours).toContain("protocol/methods.ts");
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(problems).toEqual([]);
  });
});
