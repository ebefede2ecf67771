/**
 * One namespace of side records (sync states, overlays, run records...).
 * Values carry a checksum like the changes do; a damaged one is an error
 * naming its key rather than garbage handed to the caller.
 */

import type { RecordSpace, RecordWrite } from "./contract.ts";
import type { StoreDb } from "./open-level.ts";
import { ioError } from "./open-level.ts";
import { namespacePrefix, prefixBounds, recordKey } from "./keys.ts";
import { decodeSideRecord } from "./record-codec.ts";
import { InvalidOperation, StorageError } from "../errors.ts";

export interface RecordSpaceDeps {
  db: StoreDb;
  dir: string;
  write: (writes: RecordWrite[]) => Promise<void>;
}

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

  async function get(key: string): Promise<Uint8Array | undefined> {
    let value: Uint8Array | undefined;
    try {
      value = await db.get(recordKey(namespace, key));
    } catch (e) {
      throw ioError(dir, `reading side record "${key}" in namespace "${namespace}"`, e);
    }
    return value === undefined ? undefined : decode(key, value);
  }

  return {
    get,
    async getJson<T>(key: string): Promise<T | undefined> {
      const bytes = await get(key);
      if (bytes === undefined) return undefined;
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
      try {
        return JSON.parse(text) as T;
      } catch (e) {
        throw new StorageError(
          `side record "${key}" in namespace "${namespace}" of the workspace store at ${dir} is not valid JSON: ${(e as Error).message}`,
          { dir, namespace, key },
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
    async *list(keyPrefix = ""): AsyncIterable<[string, Uint8Array]> {
      const bounds = prefixBounds(prefix + keyPrefix);
      const iterator = db.iterator<Uint8Array, Uint8Array>({ ...bounds, keyEncoding: "view" });
      try {
        for await (const [rawKey, value] of iterator) {
          const key = Buffer.from(rawKey.buffer, rawKey.byteOffset, rawKey.byteLength)
            .toString("utf8")
            .slice(prefix.length);
          yield [key, decode(key, value)];
        }
      } finally {
        await iterator.close();
      }
    },
  };
}
