/**
 * One namespace of side records (sync states, overlays, run records...),
 * the same on every backend: a backend supplies raw reads, a listing and the
 * atomic write; the JSON rules and error messages live here once.
 */

import type { ListOptions, RecordSpace, RecordWrite } from "./contract.ts";
import type { StoreDb } from "./open-level.ts";
import { ioError } from "./open-level.ts";
import { namespacePrefix, prefixBounds, recordKey } from "./keys.ts";
import { decodeSideRecord } from "./record-codec.ts";
import { InvalidOperation, StorageError } from "../errors.ts";

/** What a backend provides for one namespace. */
export interface RecordSource {
  /** Where the store is, for messages (a directory, or `memory:<name>`). */
  location: string;
  get(key: string): Promise<Uint8Array | undefined>;
  /** Records whose key starts with `prefix`, in UTF-8 byte order of their keys (reversed and bounded as `opts` say). */
  list(prefix: string, opts: ListOptions): AsyncIterable<[string, Uint8Array]>;
  /** The keys starting with `prefix`, in UTF-8 byte order; values are not read. */
  keys(prefix: string): AsyncIterable<string>;
  write(writes: RecordWrite[]): Promise<void>;
}

export function recordSpaceOver(namespace: string, source: RecordSource): RecordSpace {
  const { location, write } = source;
  return {
    get: (key) => source.get(key),
    async getJson<T>(key: string): Promise<T | undefined> {
      const bytes = await source.get(key);
      if (bytes === undefined) return undefined;
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
      try {
        return JSON.parse(text) as T;
      } catch (e) {
        throw new StorageError(
          `side record "${key}" in namespace "${namespace}" of the workspace store at ${location} is not valid JSON: ${(e as Error).message}`,
          { dir: location, namespace, key },
        );
      }
    },
    put: (key, value) => write([{ namespace, key, value }]),
    putJson(key, value) {
      const text = JSON.stringify(value) as string | undefined;
      if (text === undefined) {
        return Promise.reject(
          new InvalidOperation(`side record "${key}" in namespace "${namespace}": ${typeof value} cannot be stored as JSON`, {
            namespace,
            key,
          }),
        );
      }
      return write([{ namespace, key, value: Buffer.from(text, "utf8") }]);
    },
    del: (key) => write([{ namespace, key, value: null }]),
    list: (keyPrefix = "", opts = {}) => source.list(keyPrefix, opts),
    keys: (keyPrefix = "") => source.keys(keyPrefix),
  };
}

export interface RecordSpaceDeps {
  db: StoreDb;
  dir: string;
  write: (writes: RecordWrite[]) => Promise<void>;
}

/**
 * A namespace on LevelDB. Values carry a checksum like the changes do; a
 * damaged one is an error naming its key rather than garbage handed to the caller.
 */
export function createRecordSpace(namespace: string, deps: RecordSpaceDeps): RecordSpace {
  const { db, dir, write } = deps;
  const prefix = namespacePrefix(namespace);

  function decode(key: string, value: Uint8Array): Uint8Array {
    const decoded = decodeSideRecord(value);
    if (decoded.ok) return decoded.value;
    throw new StorageError(
      `side record "${key}" in namespace "${namespace}" of the workspace store at ${dir} is damaged: ${decoded.reason}`,
      { dir, namespace, key, reason: decoded.reason },
    );
  }

  return recordSpaceOver(namespace, {
    location: dir,
    write,
    async get(key) {
      let value: Uint8Array | undefined;
      try {
        value = await db.get(recordKey(namespace, key));
      } catch (e) {
        throw ioError(dir, `reading side record "${key}" in namespace "${namespace}"`, e);
      }
      return value === undefined ? undefined : decode(key, value);
    },
    async *list(keyPrefix, opts) {
      const bounds = prefixBounds(prefix + keyPrefix);
      const iterator = db.iterator<Uint8Array, Uint8Array>({
        ...bounds,
        keyEncoding: "view",
        reverse: opts.reverse ?? false,
        limit: opts.limit ?? -1,
      });
      try {
        for await (const [rawKey, value] of iterator) {
          const key = keyText(rawKey, prefix.length);
          yield [key, decode(key, value)];
        }
      } finally {
        await iterator.close();
      }
    },
    async *keys(keyPrefix) {
      const iterator = db.keys<Uint8Array>({ ...prefixBounds(prefix + keyPrefix), keyEncoding: "view" });
      try {
        for await (const rawKey of iterator) yield keyText(rawKey, prefix.length);
      } finally {
        await iterator.close();
      }
    },
  });
}

function keyText(raw: Uint8Array, prefixLength: number): string {
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("utf8").slice(prefixLength);
}
