// A folder is entered through its public face: its index.ts, or a light face that loads none of
// the folder's heavy dependencies (daemon/crdt/vocabulary.ts: a Lua worker needs the errors and
// schema without Automerge or LevelDB; <folder>/light.ts elsewhere, e.g. the CLI's flag checks
// without libp2p). A file may reach the files of its own folder
// and of the folders above it (the rooms it lives in), and a face may gather what lies beneath it.
import path from "node:path";

const FACES = new Set(["index.ts", "index.tsx", "vocabulary.ts", "light.ts"]);

function check(context, node) {
  const spec = node.source && node.source.value;
  if (typeof spec !== "string" || !spec.startsWith(".")) return;
  const from = path.dirname(context.filename);
  const target = path.resolve(from, spec);
  const targetDir = path.dirname(target);
  if (targetDir === from || from.startsWith(targetDir + path.sep)) return;
  if (FACES.has(path.basename(target))) return;
  if (FACES.has(path.basename(context.filename)) && targetDir.startsWith(from + path.sep)) return;
  const folder = path.relative(context.cwd, targetDir) || ".";
  context.report({ node: node.source, message: `"${spec}" reaches past the public face of ${folder}: import it from ${folder}/index.ts (or its light face), exporting it there if need be.` });
}

export const publicFaces = {
  meta: { type: "problem", schema: [], docs: { description: "cross-folder imports go through the folder's index.ts or vocabulary.ts" } },
  create(context) {
    const visit = (node) => check(context, node);
    return { ImportDeclaration: visit, ExportNamedDeclaration: visit, ExportAllDeclaration: visit, ImportExpression: visit };
  },
};
