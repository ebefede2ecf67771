/**
 * /openprod/join/1: how a new machine gets a show from a running peer. The
 * joiner opens one stream, sends its invite code, and gets back either the
 * show (workspace key, the inviter's sync addresses, the configuration files)
 * or a refusal. The frames are the sync protocol's (frame.ts): a Hello frame
 * carries a JSON message, an Error frame a refusal.
 *
 * This runs on its own libp2p listener without the workspace key's private
 * network (the joiner has no key yet), but still over Noise: the joiner checks
 * the inviter's peer id from the /p2p/ part of the address it was given, and
 * the code and key travel encrypted.
 */
import type { Stream } from "@libp2p/interface";
import { Uint8ArrayList } from "uint8arraylist";
import { FrameDecoder, encodeFrame } from "./frame.ts";
import type { Frame , FrameKind} from "./frame.ts";

export const JOIN_PROTOCOL_ID = "/openprod/join/1";
/** The show's configuration files in one frame: generous, but bounded. */
export const MAX_JOIN_FRAME_BYTES = 32 * 1024 * 1024;
export const JOIN_TIMEOUT_MS = 15_000;

export interface JoinRequest {
  code: string;
  /** The joining machine's name for people (the inviter's log says who joined). */
  name?: string;
}

export interface ShowFile {
  /** Relative to the show directory, with forward slashes. */
  path: string;
  /** The file's bytes, base64. */
  data: string;
}

export interface JoinOffer {
  workspace: { id: string; name: string };
  /** The workspace key file's text (swarm-key format). */
  workspaceKey: string;
  /** The inviter's sync addresses (with /p2p/<id>), for the joiner's `[peer] connect`. */
  addresses: string[];
  peerId: string;
  peerName: string;
  /** True when the inviter only lets listed peer ids in: the joiner must be added to its `allow`. */
  allowList: boolean;
  files: ShowFile[];
}

export interface JoinRefusal {
  code: "PermissionDenied" | "InvalidOperation";
  message: string;
}

export async function sendJoinMessage(stream: Stream, kind: typeof FrameKind.Hello | typeof FrameKind.Error, message: unknown): Promise<void> {
  if (!stream.send(encodeFrame(kind, new TextEncoder().encode(JSON.stringify(message))))) await stream.onDrain();
}

/** The next frame from the stream, parsed as JSON; rejects when the stream ends or stalls first. */
export function readJoinMessage(stream: Stream, timeoutMs = JOIN_TIMEOUT_MS): Promise<{ kind: Frame["kind"]; message: unknown }> {
  const decoder = new FrameDecoder(MAX_JOIN_FRAME_BYTES);
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      stream.removeEventListener("message", onMessage);
      stream.removeEventListener("close", onClose);
      stream.removeEventListener("remoteCloseWrite", onClose);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (evt: { data: Uint8Array | Uint8ArrayList }): void => {
      let frames: Frame[];
      try {
        frames = decoder.push(evt.data instanceof Uint8ArrayList ? evt.data.subarray() : evt.data);
      } catch (err) {
        done();
        reject(err as Error);
        return;
      }
      if (frames.length === 0) return;
      done();
      try {
        resolve({ kind: frames[0].kind, message: JSON.parse(new TextDecoder().decode(frames[0].payload)) as unknown });
      } catch (err) {
        reject(new Error(`the answer is not JSON: ${(err as Error).message}`));
      }
    };
    const onClose = (): void => {
      done();
      reject(new Error("the stream closed before an answer came"));
    };
    stream.addEventListener("message", onMessage);
    stream.addEventListener("close", onClose);
    stream.addEventListener("remoteCloseWrite", onClose);
  });
}
