/**
 * `native.lightwright`: lightwright.parse(path) and lightwright.write(path, data), both
 * async, on the show's files with the same checks as fs.read / fs.write (the file is read
 * through the run's recorded file access, so replays see the same input).
 */
import type { NativeCapability } from "../native-registry.ts";
import { parseLightwrightXml, serializeLightwrightXml } from "./lightwright-xml.ts";

export const lightwrightCapability: NativeCapability = {
  name: "lightwright",
  bindings: (ctx) => ({
    parse: {
      kind: "async",
      fn: async (args) => parseLightwrightXml(await ctx.files.readText(args[0], "lightwright.parse"), String(args[0])),
    },
    write: {
      kind: "async",
      fn: async (args) => {
        const path = args[0];
        // Check the destination before building the file, so a refused path fails fast.
        await ctx.files.check("write", path, "lightwright.write");
        await ctx.files.writeText(path, serializeLightwrightXml(args[1] ?? null, String(path)), "lightwright.write");
        return null;
      },
    },
  }),
};
