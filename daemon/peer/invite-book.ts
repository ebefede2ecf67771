/**
 * One-time invite codes for `openprod join`, held in the daemon's memory only
 * (a restart forgets them). A code is short enough to read aloud across a
 * booth, valid for ten minutes and for one join; the join listener closes
 * for good after too many wrong codes, so guessing is not an option.
 */
import { randomBytes } from "node:crypto";

/** Crockford's base32: no I, L, O or U, so a code read aloud or typed from a screen is unambiguous. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const INVITE_TTL_MS = 10 * 60_000;
/** Wrong codes tried before every open invite is withdrawn. */
export const MAX_WRONG_CODES = 10;

export interface Invite {
  code: string;
  expiresAt: number;
}

/** Why a code was refused, for the joiner's error message. */
export type InviteRefusal = "wrong" | "expired" | "used" | "locked";

export interface InviteBookOptions {
  now?: () => number;
  random?: (n: number) => Uint8Array;
  ttlMs?: number;
}

/** `7f3k9qxa`, ` 7F3K-9QXA ` → `7F3K-9QXA`; the dash and case are optional when typing. */
export function normalizeInviteCode(code: string): string {
  const plain = code.toUpperCase().replace(/[\s-]/g, "").replace(/[IL]/g, "1").replace(/O/g, "0");
  return plain.length === 8 ? `${plain.slice(0, 4)}-${plain.slice(4)}` : plain;
}

export class InviteBook {
  private readonly open = new Map<string, number>();
  /** Codes once valid, kept so that a late or second use is told "expired"/"used" rather than "wrong". */
  private readonly spent = new Map<string, "expired" | "used">();
  private wrong = 0;
  private readonly now: () => number;
  private readonly random: (n: number) => Uint8Array;
  private readonly ttlMs: number;

  constructor(opts: InviteBookOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? ((n) => randomBytes(n));
    this.ttlMs = opts.ttlMs ?? INVITE_TTL_MS;
  }

  create(): Invite {
    this.sweep();
    const bytes = this.random(8);
    const chars = [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join("");
    const code = `${chars.slice(0, 4)}-${chars.slice(4)}`;
    const expiresAt = this.now() + this.ttlMs;
    this.open.set(code, expiresAt);
    // A fresh invite re-arms the guard: the technician is at the machine.
    this.wrong = 0;
    return { code, expiresAt };
  }

  /** Takes the code (single use): null when it is valid, else why not. */
  take(given: string): InviteRefusal | null {
    this.sweep();
    if (this.wrong >= MAX_WRONG_CODES) return "locked";
    const code = normalizeInviteCode(given);
    if (this.open.has(code)) {
      this.open.delete(code);
      this.spent.set(code, "used");
      return null;
    }
    const spent = this.spent.get(code);
    if (spent !== undefined) return spent;
    this.wrong++;
    if (this.wrong >= MAX_WRONG_CODES) {
      for (const c of this.open.keys()) this.spent.set(c, "expired");
      this.open.clear();
      return "locked";
    }
    return "wrong";
  }

  /** Invites still valid now. */
  pending(): number {
    this.sweep();
    return this.open.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [code, expiresAt] of this.open) {
      if (expiresAt > now) continue;
      this.open.delete(code);
      this.spent.set(code, "expired");
    }
  }
}
