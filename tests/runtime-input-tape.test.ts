// The input tape on its own: what a live binding answered is what its replay answers, call by
// call, and past the recording a replay says where it ran out instead of calling anything.
import { describe, expect, it } from "vitest";
import { LuaFloat } from "../daemon/scripts/engine/index.ts";
import type { HostBinding, HostValue } from "../daemon/scripts/engine/index.ts";
import { InputTape, TAPE_VALUE_BYTES, replayedBindings } from "../daemon/scripts/runtime/input-tape.ts";
import type { TapeRanOut } from "../daemon/scripts/runtime/input-tape.ts";

const run = { runId: "run-1", chunkName: "t.lua" };

function call(b: HostBinding | undefined, args: HostValue[] = []): Promise<HostValue> {
  if (!b || b.kind === "event") throw new Error("not a callable binding");
  return Promise.resolve(b.fn(args, run));
}

describe("a replay answers from the tape what the live run was answered", () => {
  it("values (floats stay floats), errors and the order of calls per binding come back as recorded", async () => {
    let n = 0;
    const live: Record<string, HostBinding> = {
      "osc.__recv": { kind: "async", fn: async () => [{ path: "/go", time_tag: new LuaFloat(2) }] },
      "http.get": {
        kind: "async",
        fn: async () => {
          if (++n === 2) throw Object.assign(new Error("connection refused"), { code: "NetworkError", details: { url: "http://x" } });
          return { status: 200, body: `answer ${n}` };
        },
      },
    };
    const tape = new InputTape();
    const wrapped = tape.wrap(live, new Set(["osc.__recv", "http.get"]));
    const recv = await call(wrapped["osc.__recv"]);
    const first = await call(wrapped["http.get"]);
    await expect(call(wrapped["http.get"])).rejects.toThrow("connection refused");
    const third = await call(wrapped["http.get"]);

    const never: Record<string, HostBinding> = {
      "osc.__recv": { kind: "async", fn: async () => { throw new Error("the replay called the network"); } },
      "http.get": { kind: "async", fn: async () => { throw new Error("the replay called the network"); } },
    };
    const recorded = JSON.parse(JSON.stringify(tape.toRecord())) as ReturnType<InputTape["toRecord"]>;
    let ranOut: TapeRanOut | null = null;
    const replay = replayedBindings(never, new Set(["osc.__recv", "http.get"]), recorded, (r) => void (ranOut ??= r));
    const replayedRecv = (await call(replay["osc.__recv"])) as { time_tag: LuaFloat }[];
    expect(replayedRecv).toEqual(recv);
    expect(replayedRecv[0].time_tag).toBeInstanceOf(LuaFloat);
    expect(((await call(replay["osc.__recv"]).catch((e: Error) => e)) as Error).message).toContain("ran out at osc.__recv call #2 (the run recorded 1 answer(s) of it)");
    await expect(call(replay["osc.__recv"])).rejects.toThrow(/call #3/);
    expect(await call(replay["http.get"])).toEqual(first);
    await expect(call(replay["http.get"])).rejects.toMatchObject({ message: "connection refused", code: "NetworkError", details: { url: "http://x" } });
    expect(await call(replay["http.get"])).toEqual(third);
    expect(ranOut).toMatchObject({ binding: "osc.__recv", call: 2, recorded: 1, complete: true });
  });

  it("an answer too large to keep is kept as its size and hash, and its replay says the recording ran out there", async () => {
    const big = "x".repeat(TAPE_VALUE_BYTES + 10);
    const tape = new InputTape();
    const wrapped = tape.wrap({ "fs.read": { kind: "async", fn: async () => big } }, new Set(["fs.read"]));
    expect(await call(wrapped["fs.read"])).toBe(big);
    const rec = tape.toRecord();
    expect(rec.entries[0]).toMatchObject({ b: "fs.read", omitted: { bytes: big.length + 2, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    let ranOut: TapeRanOut | null = null;
    const replay = replayedBindings({ "fs.read": { kind: "async", fn: async () => "live" } }, new Set(["fs.read"]), rec, (r) => void (ranOut = r));
    await expect(call(replay["fs.read"])).rejects.toThrow(/replay: the recorded inputs ran out at fs\.read call #1 \(the run recorded 0 answer\(s\) of it\)/);
    expect(ranOut).toMatchObject({ binding: "fs.read", call: 1, recorded: 0 });
  });
});
