/** The web console's entry point (bundled by daemon/cli/build.ts into dist/console/app.js). */
import { render } from "preact";
import { App } from "./components/index.ts";

const root = document.getElementById("app");
if (root) render(<App />, root);
