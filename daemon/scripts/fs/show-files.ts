/**
 * File access for scripts, inside the show directory and the run's fs.* capabilities: every
 * path is checked against the granted globs, then followed through symbolic links and checked
 * again where it really leads. Reads are recorded (content hash, and the content up to a
 * limit) so a run can be replayed; writes are atomic (temp file + rename).
 */
import { createHash } from "node:crypto";
import fsp from "node:fs/promises";
import path from "node:path";
import { InvalidOperation, PermissionDenied } from "../../crdt/vocabulary.ts";
import type { CapabilitySet } from "../capabilities/index.ts";

export type FsVerb = "read" | "write" | "watch";

/** An external input a run read, for its run record (same shape the show I/O modules use). */
export interface ExternalInput {
  kind: string;
  data: unknown;
}

export interface ShowFilesOptions {
  showDir: string;
  /** The run's capabilities; a function so a revocation takes effect at the next call. */
  capabilities: CapabilitySet | (() => CapabilitySet);
  /** Receives every file read (and watch event) for the run record. */
  record?: (input: ExternalInput) => void;
  /** Script id, named in refusals. */
  script?: string;
  /** Largest file a script may read, bytes (default 64 MiB). */
  maxReadBytes?: number;
  /** Reads up to this size keep their content in the record (default 64 KiB); larger keep only the hash. */
  recordContentBytes?: number;
}

/** A path that passed every check: where it is on disk and what it is called in the show. */
export interface CheckedPath {
  abs: string;
  rel: string;
}

const VERBS: Record<FsVerb, string> = { read: "reading", write: "writing", watch: "watching" };

export const TEMP_MARK = ".openprod-tmp-";

export class ShowFiles {
  private realShow: Promise<string> | null = null;
  private tempSeq = 0;
  readonly showDir: string;

  constructor(private readonly opts: ShowFilesOptions) {
    this.showDir = path.resolve(opts.showDir);
  }

  capabilities(): CapabilitySet {
    const c = this.opts.capabilities;
    return typeof c === "function" ? c() : c;
  }

  record(input: ExternalInput): void {
    this.opts.record?.(input);
  }

  /**
   * Checks `relPath` for `verb` and returns where it leads. Refusals are PermissionDenied
   * naming the capability that would allow the call (or why none can).
   */
  async check(verb: FsVerb, relPath: unknown, api = `fs.${verb}`): Promise<CheckedPath> {
    if (typeof relPath !== "string") {
      throw new InvalidOperation(`${api}(path): path must be a string relative to the show directory, got ${relPath === null ? "nil" : typeof relPath}`, { path: String(relPath) });
    }
    const caps = this.capabilities();
    const kind = `fs.${verb}` as const;
    if (!caps.fsAllowed(verb, relPath)) throw caps.denied({ kind, path: relPath }, this.opts.script);
    const rel = relPath.split("/").filter((s) => s !== "" && s !== ".").join("/");
    const abs = rel === "" ? this.showDir : path.join(this.showDir, ...rel.split("/"));
    const real = await this.realTarget(abs, verb === "write");
    const show = await this.realShowDir();
    const who = this.opts.script === undefined ? "" : `script "${this.opts.script}": `;
    if (real !== show && !real.startsWith(show + path.sep)) {
      throw new PermissionDenied(`${who}${VERBS[verb]} "${rel}" is refused: a symbolic link takes it to ${real}, outside the show directory`, {
        kind,
        path: rel,
        target: real,
        script: this.opts.script,
      });
    }
    const realRel = path.relative(show, real).split(path.sep).join("/");
    if (realRel !== rel && !caps.fsAllowed(verb, realRel === "" ? "." : realRel)) {
      throw new PermissionDenied(`${who}${VERBS[verb]} "${rel}" is refused: a symbolic link takes it to ${realRel}, and ${caps.deniedMessage({ kind, path: realRel })}`, {
        kind,
        path: rel,
        target: realRel,
        script: this.opts.script,
      });
    }
    return { abs, rel };
  }

  /** Text of a granted file, recorded for replay. */
  async readText(relPath: unknown, api = "fs.read"): Promise<string> {
    const { abs, rel } = await this.check("read", relPath, api);
    const st = await fsp.stat(abs).catch((e: NodeJS.ErrnoException) => {
      throw this.ioError(api, rel, e);
    });
    if (st.isDirectory()) throw new InvalidOperation(`${api}("${rel}"): it is a folder, not a file`, { path: rel });
    const max = this.opts.maxReadBytes ?? 64 * 1024 * 1024;
    if (st.size > max) throw new InvalidOperation(`${api}("${rel}"): the file is ${st.size} bytes, over the ${max}-byte limit for scripts`, { path: rel, size: st.size });
    const bytes = await fsp.readFile(abs).catch((e: NodeJS.ErrnoException) => {
      throw this.ioError(api, rel, e);
    });
    const keep = this.opts.recordContentBytes ?? 64 * 1024;
    const text = bytes.toString("utf8");
    this.record({
      kind: "fs.read",
      data: { path: rel, sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length, content: bytes.length <= keep ? text : null },
    });
    return text;
  }

  /** Replaces a granted file's content atomically: readers see the old file or the new one, never half. */
  async writeText(relPath: unknown, content: unknown, api = "fs.write"): Promise<void> {
    if (typeof content !== "string") {
      throw new InvalidOperation(`${api}(path, content): content must be a string, got ${content === null ? "nil" : typeof content}`, { path: String(relPath) });
    }
    const { abs, rel } = await this.check("write", relPath, api);
    if (rel === "") throw new InvalidOperation(`${api}: the show directory itself cannot be written`, { path: rel });
    const dir = path.dirname(abs);
    const tmp = path.join(dir, `${TEMP_MARK}${process.pid}-${++this.tempSeq}-${path.basename(abs)}`);
    try {
      await fsp.mkdir(dir, { recursive: true });
      await fsp.writeFile(tmp, content, "utf8");
      await fsp.rename(tmp, abs);
    } catch (e) {
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      throw this.ioError(api, rel, e as NodeJS.ErrnoException);
    }
  }

  private ioError(api: string, rel: string, e: NodeJS.ErrnoException): InvalidOperation {
    const why: Record<string, string> = {
      ENOENT: "no such file",
      EISDIR: "it is a folder",
      ENOTDIR: "a part of the path is a file, not a folder",
      EACCES: "the daemon is not allowed to access it",
      EPERM: "the daemon is not allowed to access it",
    };
    return new InvalidOperation(`${api}("${rel}"): ${why[e.code ?? ""] ?? e.message}`, { path: rel, code: e.code ?? "EIO" });
  }

  private realShowDir(): Promise<string> {
    this.realShow ??= fsp.realpath(this.showDir);
    return this.realShow;
  }

  /** Where `abs` really leads: its realpath, or (when it does not exist yet) its nearest existing folder's plus the rest. */
  private async realTarget(abs: string, forWrite: boolean): Promise<string> {
    let probe = abs;
    const rest: string[] = [];
    for (;;) {
      try {
        if (forWrite && rest.length === 0) {
          // Writing replaces a symlink at the final name instead of following it, but a link
          // there still names where the content would land for readers: follow it too.
          const st = await fsp.lstat(probe);
          if (!st.isSymbolicLink()) {
            return path.join(await fsp.realpath(path.dirname(probe)), path.basename(probe));
          }
        }
        return path.join(await fsp.realpath(probe), ...rest.reverse());
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
        const parent = path.dirname(probe);
        if (parent === probe) return abs;
        rest.push(path.basename(probe));
        probe = parent;
      }
    }
  }
}
