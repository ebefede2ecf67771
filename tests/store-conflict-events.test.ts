import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChangeEvent } from "../daemon/crdt/change-feed.ts";
import { bridgeEvents } from "../daemon/server/store-events.ts";
import { EventHub } from "../daemon/server/event-hub.ts";
import type { DaemonEvent } from "../protocol/events.ts";
import { USER } from "./helpers/store-fixture.ts";
import { createFixture, openPair } from "./fixtures/store-pair.ts";
import type { StorePair } from "./fixtures/store-pair.ts";

let pair: StorePair;
beforeEach(async () => {
  pair = await openPair();
});
afterEach(async () => {
  await pair.close();
});

describe("a change event says which conflicts its bundles opened and closed", () => {
  it("the merge that brings a concurrent edit opens the conflict; resolving it closes it; other bundles carry none", async () => {
    const { a, b } = pair;
    const id = await createFixture(a, { unit_number: "A1", channel: 1 });
    await pair.sync();
    const events: ChangeEvent[] = [];
    a.onChange((e) => events.push(e));
    await a.apply([{ op: "SetField", id, field: "channel", value: 11 }], USER);
    await b.apply([{ op: "SetField", id, field: "channel", value: 22 }], USER);
    expect(events.at(-1)?.conflicts).toEqual({ opened: [], closed: [] });
    await pair.sync();

    const [conflict] = a.conflicts();
    expect(conflict.field).toBe("lighting.fixture.channel");
    const merged = events.filter((e) => e.origin === "remote");
    expect(merged.flatMap((e) => e.conflicts.opened)).toEqual([conflict]);
    expect(merged.flatMap((e) => e.conflicts.closed)).toEqual([]);

    events.length = 0;
    await a.resolveConflict(conflict.id, 33, USER);
    expect(events).toHaveLength(1);
    expect(events[0].conflicts).toEqual({ opened: [], closed: [conflict.id] });
    expect(a.conflicts()).toEqual([]);
  });
});

describe("the socket announces conflicts opened and closed, once each", () => {
  it("conflict.opened when the merge lands, conflict.closed when it is resolved", async () => {
    const { a, b } = pair;
    const id = await createFixture(a, { unit_number: "A1", channel: 1 });
    await pair.sync();
    const hub = new EventHub();
    const seen: DaemonEvent[] = [];
    hub.subscribe((e) => seen.push(e), ["conflict.opened", "conflict.closed"]);
    const stop = bridgeEvents(a, null, hub);
    await a.apply([{ op: "SetField", id, field: "channel", value: 11 }], USER);
    await b.apply([{ op: "SetField", id, field: "channel", value: 22 }], USER);
    await pair.sync();
    const [conflict] = a.conflicts();
    expect(seen).toEqual([{ type: "conflict.opened", conflict }]);
    await a.resolveConflict(conflict.id, 22, USER);
    expect(seen).toEqual([
      { type: "conflict.opened", conflict },
      { type: "conflict.closed", id: conflict.id },
    ]);
    stop();
  });
});
