/**
 * The history's record space: one record per bundle, keyed so that LevelDB's
 * byte order is the history's order (HLC, then hash), one empty record per
 * bundle and entity it touched, and a state record saying which heads the
 * space covers. Written in the same atomic batch as the bundle's change, so it
 * is never ahead of the document on disk nor behind it.
 *
 *   b:<hlc>\0<hash>            the bundle's metadata (its change message, as JSON text)
 *   e:<entity>\0<hlc>\0<hash>  empty: the bundle touched the entity
 *   state                      {"v":1,"heads":[...],"count":n}: the heads and bundle count it covers
 *
 * <hlc> and <entity> go through `sortable`, so that byte order follows the
 * order of their UTF-16 code units (what `<` compares) and no \0 occurs inside.
 */
import type { Heads } from "./automerge-backend.ts";
import { parseBundleMeta } from "./change-locator.ts";
import type { BundleInfo } from "./operations.ts";
import type { RecordWrite } from "./persistence/index.ts";

/** The record namespace of the history. */
export const NS_HISTORY = "history";
export const BUNDLE_PREFIX = "b:";
const ENTITY_PREFIX = "e:";
export const STATE_KEY = "state";
const SEP = "\u0000";

const enc = new TextEncoder();
const dec = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** What the state record says: the space holds exactly the bundles of the document at `heads`. */
export interface HistoryState {
  v: 1;
  heads: Heads;
  count: number;
}

/**
 * Text whose UTF-8 bytes sort like its UTF-16 code units do and that holds no
 * \0: code units 2..0x7E stay as they are, 0 and 1 become \x01\x01 and \x01\x02,
 * everything from 0x7F up becomes \x7F and four hex digits. HLCs and entity ids
 * are ASCII, so in practice nothing changes.
 */
export function sortable(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\u0002-\u007e]*$/.test(text)) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 2) out += unit === 0 ? "\u0001\u0001" : "\u0001\u0002";
    else if (unit < 0x7f) out += text[i];
    else out += "\u007f" + unit.toString(16).toUpperCase().padStart(4, "0");
  }
  return out;
}

function position(info: BundleInfo): string {
  return sortable(info.meta.hlc) + SEP + info.hash;
}

/** The key prefix of the bundles that touched `entity`. */
export function entityPrefix(entity: string): string {
  return ENTITY_PREFIX + sortable(entity) + SEP;
}

/** The bundle record an entity record points at. */
export function bundleKeyOfEntityKey(key: string, prefix: string): string {
  return BUNDLE_PREFIX + key.slice(prefix.length);
}

/** The entities a bundle's metadata names, each once (a peer's metadata may be malformed: only strings count). */
export function entitiesOf(info: BundleInfo): string[] {
  const list: unknown = info.meta.entities;
  return Array.isArray(list) ? [...new Set(list.filter((e): e is string => typeof e === "string"))] : [];
}

/** The records of bundles just made (none for a change that is no bundle). */
export function bundleWrites(infos: readonly BundleInfo[]): RecordWrite[] {
  const writes: RecordWrite[] = [];
  for (const info of infos) {
    const at = position(info);
    writes.push({ namespace: NS_HISTORY, key: BUNDLE_PREFIX + at, value: enc.encode(JSON.stringify(info.meta)) });
    for (const e of entitiesOf(info)) writes.push({ namespace: NS_HISTORY, key: entityPrefix(e) + at, value: EMPTY });
  }
  return writes;
}

export function stateWrite(state: HistoryState): RecordWrite {
  return { namespace: NS_HISTORY, key: STATE_KEY, value: enc.encode(JSON.stringify(state)) };
}

export function deleteWrite(key: string): RecordWrite {
  return { namespace: NS_HISTORY, key, value: null };
}

/** The state record, or null when it is missing or not one this daemon wrote. */
export function decodeState(bytes: Uint8Array | undefined): HistoryState | null {
  if (bytes === undefined) return null;
  try {
    const s = JSON.parse(dec.decode(bytes)) as Partial<HistoryState>;
    const ok = s.v === 1 && Array.isArray(s.heads) && s.heads.every((h) => typeof h === "string") && Number.isSafeInteger(s.count) && (s.count ?? -1) >= 0;
    return ok ? (s as HistoryState) : null;
  } catch {
    return null;
  }
}

/** A bundle record back as the history entry; null when it does not decode (the space is then damaged). */
export function decodeBundle(key: string, value: Uint8Array): BundleInfo | null {
  if (!key.startsWith(BUNDLE_PREFIX)) return null;
  const sep = key.lastIndexOf(SEP);
  if (sep < 0) return null;
  const meta = parseBundleMeta(dec.decode(value));
  return meta ? { hash: key.slice(sep + 1), meta } : null;
}
