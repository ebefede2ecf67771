/** The console service's one method, added to `Methods` by declaration merging. */
declare module "./methods.ts" {
  interface Methods {
    /**
     * The web console's address with its access token, for `openprod console` (on the owner-only
     * socket). InvalidOperation when `[console] enabled = false`.
     */
    "console.url": { params: Record<string, never>; result: { url: string; urlWithToken: string } };
  }
}

export {};
