/** Reported by `status` and `hello`; bump with package.json. */
export const DAEMON_VERSION = "0.1.0";
