/** The console's views; main.tsx mounts the App. */
export { App } from "./App.tsx";
