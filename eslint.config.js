import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
          patterns: [{ group: ["../*", "!../engine/**"], message: "daemon/scripts/engine imports nothing else of the daemon (it runs inside worker threads)." }],
        },
      ],
    },
  },
  {
    files: ["bin/**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
);
