import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { publicFaces } from "./tools/eslint/public-faces.js";

const CLI_LAYER =
  "daemon/cli reaches the daemon through protocol/ (a running daemon) or daemon/offline/index.ts (what the CLI runs in its own process); daemon/config it may read.";

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", ".openprod-example/**", "examples/**", "coverage/**", "**/*.lua"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  // Dependencies point one way (docs: architecture): the store imports none of the parts built on it,
  // and the Lua engine imports nothing else of the daemon (a worker thread loads it on its own).
  {
    files: ["daemon/crdt/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/scripts/**", "**/triggers/**", "**/peer/**", "**/server/**", "**/cli/**", "**/console/**"],
              message: "daemon/crdt is the bottom layer: it imports none of scripts, triggers, peer, server, cli or console.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["daemon/scripts/engine/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [{ regex: "^\\.\\./(?!engine/|\\.\\./\\.\\./protocol/light\\.ts$)", message: "daemon/scripts/engine imports nothing else of the daemon (it runs inside worker threads); the wire's types come from protocol/light.ts." }],
        },
      ],
    },
  },
  // The wire contract is the bottom layer: protocol/ (which the console bundles too) imports nothing of the daemon.
  {
    files: ["protocol/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/daemon", "**/daemon/**", "**/console", "**/console/**"],
              message: "protocol/ is the wire contract: it imports nothing of daemon/ (the daemon maps its types onto it) or console/.",
            },
          ],
        },
      ],
    },
  },
  // The web console is a client of the protocol like any other (it runs in a browser).
  {
    files: ["console/**/*.ts", "console/**/*.tsx"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/daemon", "**/daemon/**"], message: "console/ is a protocol client: it imports protocol/, never daemon/." },
            { group: ["**/protocol/index.ts"], message: "console/ is bundled for a browser: import protocol/light.ts (protocol/index.ts brings the Node socket client)." },
          ],
        },
      ],
    },
  },
  // The CLI reaches the daemon's state through protocol/ (the socket), and for what it runs in its own process
  // (offline reads, store files, shared rules) through daemon/offline/index.ts alone; config reading is its own.
  // `openprod daemon` and `openprod test` start the daemon's entry point and the script test runner.
  {
    files: ["daemon/cli/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["../crdt", "../crdt/**", "../scripts", "../scripts/**", "../triggers", "../triggers/**", "../peer", "../peer/**", "../server", "../server/**"],
              message: CLI_LAYER,
            },
            { group: ["../offline/*", "!../offline/index.ts", "../scripttest/*", "!../scripttest/index.ts"], message: CLI_LAYER },
          ],
        },
      ],
      "no-restricted-syntax": [
        "error",
        {
          // Lazy imports too: no-restricted-imports sees only static ones.
          selector: "ImportExpression[source.value=/^\\.\\.\\/(crdt|scripts|triggers|peer|server)\\/|^\\.\\.\\/(offline|scripttest)\\/(?!index\\.ts$)/]",
          message: CLI_LAYER,
        },
      ],
    },
  },
  // Every import that crosses into another folder goes through that folder's public face (index.ts,
  // or crdt's light vocabulary.ts), so a folder's insides can change without its users noticing.
  {
    files: ["daemon/**/*.ts", "protocol/**/*.ts", "console/**/*.ts", "console/**/*.tsx"],
    plugins: { openprod: { rules: { "public-faces": publicFaces } } },
    rules: { "openprod/public-faces": "error" },
  },
  {
    files: ["bin/**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
);
