// The test clock's timers (the io timer seam in openprod test): waits are sleepers a waited-for
// run lets elapse at once, deadlines fire only when time passes them, and both cancel.
import { describe, expect, it } from "vitest";
import { Inbox } from "../daemon/scripts/io/index.ts";
import { RunQuiet } from "../daemon/scripttest/sim/index.ts";
import { EPOCH_MS, virtualClock } from "../daemon/scripttest/virtual-clock.ts";

describe("virtual clock timers", () => {
  it("a recv timeout on the clock resolves the take with nothing when time reaches it; a message first cancels it", async () => {
    const quiet = new RunQuiet();
    const clock = virtualClock(quiet);
    const inbox = new Inbox<string>({ timer: (ms, fn, kind) => clock.timer(ms, "run-1", fn, kind) });
    const first = inbox.take(10, 300_000);
    expect(clock.sleeping()).toBe(1);
    // The run goes quiet again after each wake (as a real run would by its next recv).
    const advancing = clock.advance(300_000);
    quiet.quiet("run-1");
    await advancing;
    expect(await first).toEqual([]);
    expect(clock.now()).toBe(EPOCH_MS + 300_000);

    const second = inbox.take(10, 300_000);
    expect(inbox.push("/heartbeat")).toBe(true);
    expect(await second).toEqual(["/heartbeat"]);
    expect(clock.sleeping()).toBe(0);
    await clock.advance(600_000);
    expect(clock.now()).toBe(EPOCH_MS + 900_000);
  });

  it("while a run is waited for, a deadline passed on the way to its sleep fires first, and time stops there when that ends the wait", async () => {
    const quiet = new RunQuiet();
    const clock = virtualClock(quiet);
    const order: string[] = [];
    const answered = new Promise<number>((resolve) => {
      clock.timer(30_000, "run-1", () => {
        order.push("504");
        resolve(clock.now());
      }, "deadline");
    });
    void clock.sleep(60_000, "run-1").then(() => order.push("handler woke"));
    // A deadline alone is no sleeper.
    expect(clock.sleeping()).toBe(1);
    const at = await clock.whileWaiting(answered, (id) => id === "run-1");
    expect(at).toBe(EPOCH_MS + 30_000);
    expect(order).toEqual(["504"]);
    expect(clock.sleeping()).toBe(1);
  });

  it("clock.advance fires deadlines without waiting for their run; a cancelled one never fires", async () => {
    const clock = virtualClock(new RunQuiet());
    const fired: string[] = [];
    clock.timer(1000, "run-1", () => fired.push("a"), "deadline");
    const cancel = clock.timer(2000, "run-1", () => fired.push("b"), "deadline");
    clock.timer(3000, "run-2", () => fired.push("c"), "deadline");
    cancel();
    await clock.advance(5000);
    expect(fired).toEqual(["a", "c"]);
    expect(clock.now()).toBe(EPOCH_MS + 5000);
  });
});
