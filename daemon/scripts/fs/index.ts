/**
 * The `fs` module scripts see (fs.read, fs.write, fs.watch) and the checked, recorded file
 * access underneath it, which native capabilities share.
 */
export { createFsApi } from "./fs-api.ts";
export type { FsApi, FsApiOptions } from "./fs-api.ts";
export { ShowFiles } from "./show-files.ts";
export type { CheckedPath, ExternalInput, FsVerb, ShowFilesOptions } from "./show-files.ts";
export { FileWatcher } from "./file-watcher.ts";
export type { FileWatcherOptions, FsEvent, FsSeams, Watcher, WatchFiles } from "./file-watcher.ts";
export { TEMP_MARK } from "./show-files.ts";
