/** Polls `f` until it returns a value (not undefined), every `everyMs`; past `timeoutMs` it fails naming `what`. */
export async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 20_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
