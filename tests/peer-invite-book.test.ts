import { describe, expect, it } from "vitest";
import { INVITE_TTL_MS, InviteBook, MAX_WRONG_CODES, normalizeInviteCode } from "../daemon/peer/index.ts";

describe("an invite code lets one machine join, for ten minutes", () => {
  it("is taken once; a second use is told it was used", () => {
    const book = new InviteBook();
    const { code } = book.create();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(book.take(code)).toBeNull();
    expect(book.take(code)).toBe("used");
    expect(book.pending()).toBe(0);
  });

  it("expires after ten minutes and is then told expired, not wrong", () => {
    let now = 1_000_000;
    const book = new InviteBook({ now: () => now });
    const { code, expiresAt } = book.create();
    expect(expiresAt).toBe(now + INVITE_TTL_MS);
    now += INVITE_TTL_MS;
    expect(book.take(code)).toBe("expired");
  });

  it("accepts the code typed in lower case, without the dash, or with O and I for 0 and 1", () => {
    expect(normalizeInviteCode(" 7f3k9qxa ")).toBe("7F3K-9QXA");
    expect(normalizeInviteCode("O1IL-AAAA")).toBe("0111-AAAA");
    const book = new InviteBook();
    const { code } = book.create();
    expect(book.take(code.toLowerCase().replace("-", ""))).toBeNull();
  });

  it("withdraws every open invite after too many wrong codes", () => {
    const book = new InviteBook({ random: () => new Uint8Array(8).fill(5) });
    const { code } = book.create();
    for (let i = 1; i < MAX_WRONG_CODES; i++) expect(book.take("ZZZZ-ZZZZ")).toBe("wrong");
    expect(book.take("ZZZZ-ZZZY")).toBe("locked");
    expect(book.take(code)).toBe("locked");
    expect(book.pending()).toBe(0);
  });
});
