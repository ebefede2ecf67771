/**
 * A scratch workspace: a real store on a temp LevelDB directory with the show's schema and a
 * script runtime over it with the show's scripts and capabilities. Nothing of the real show's
 * store is opened; dialogs are answered from what the test said, time is a virtual clock.
 */
import { mkdtempSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ShowConfig } from "../config/index.ts";
import { WorkspaceStore, memoryCopy, memoryPersistence } from "../crdt/index.ts";
import type { IdGenerator, OpenPersistence } from "../crdt/index.ts";
import { CapabilitySet } from "../scripts/capabilities/index.ts";
import type { LuaEngine } from "../scripts/engine/index.ts";
import { createScriptRuntime, showScripts } from "../scripts/runtime/index.ts";
import type { DialogRequest, RuntimeEvent, ScriptCatalog, ScriptRuntime } from "../scripts/runtime/index.ts";
import { createRuntimeTriggerRunner, createTriggerDispatcher, describeFiring, loadShowTriggers } from "../triggers/index.ts";
import type { FiringDescription, ShowTriggers, TriggerDispatcher, TriggerRunner } from "../triggers/index.ts";
import { RunQuiet, ScriptSpies, SIM_PEER_ID, SimHttp, SimMidi, SimOsc, SimPeer, SimFileWatch, simIoSeams, syncSessions } from "./sim/index.ts";
import { FixtureStarts, resume } from "./fixture-start.ts";
import type { CountingClock, FixtureStart, StartPoint } from "./fixture-start.ts";
import { EPOCH_MS, virtualClock } from "./virtual-clock.ts";
import type { VirtualClock } from "./virtual-clock.ts";

/** What the show gives every scratch workspace: loaded once per run of the runner. */
export interface ShowUnderTest {
  show: ShowConfig;
  /** The show's triggers and every script's capabilities, as the daemon loads them. */
  triggers: ShowTriggers;
  /** The show's scripts; each file is read once per run of the runner (tests do not edit them). */
  scripts: ScriptCatalog;
  /** `openprod test --daemon`: a private copy of the show's store; every scratch workspace starts with its state. */
  state: WorkspaceStore | null;
  /** Fixtures applied once in this run, for tests that start with them. */
  starts: FixtureStarts;
}

export function showUnderTest(show: ShowConfig, state: WorkspaceStore | null = null): ShowUnderTest {
  const files = new Map<string, Promise<string>>();
  const read = (f: string): Promise<string> => {
    let p = files.get(f);
    if (!p) files.set(f, (p = readFile(f, "utf8")));
    // A failed read is not kept: the next run says so again.
    p.catch(() => files.delete(f));
    return p;
  };
  const starts = new FixtureStarts(async ({ clock, persistence, newId }) => seeded(state, (await openScratchStore({ show, clock, persistence, newId })).store), (at) => countingClock(virtualClock(new RunQuiet(), at.now), at.drawn));
  return { show, state, starts, triggers: loadShowTriggers(show), scripts: showScripts({ root: show.dir.root, config: show.config, modules: show.modules, readFile: read }) };
}

/** `store` with the show's state merged in (--daemon), before anything listens: it is where every test starts. */
async function seeded(state: WorkspaceStore | null, store: WorkspaceStore): Promise<WorkspaceStore> {
  if (state) await syncSessions(await store.openSyncSession("show"), await state.openSyncSession(`test-${++seededStores}`), "the show's store");
  return store;
}

/** A trigger that fired in the scratch workspace: what changed, what ran, how it ended. */
export interface FiredTrigger extends FiringDescription {
  runId: string | null;
  status: string;
  error?: { type: string; message: string };
}

export interface DialogAnswer {
  message: string;
  value: unknown;
}

/**
 * The one place a scratch store is made: an in-memory store with the show's schema, its time
 * from the test's clock; fresh, or on `persistence` (a copy of a fixture start's space).
 * Nothing of a test reaches the disk, and a test's store is gone with the test.
 */
export async function openScratchStore(input: {
  show: ShowConfig;
  clock: Pick<VirtualClock, "now" | "random">;
  peerId?: string;
  persistence?: OpenPersistence;
  newId?: IdGenerator;
}): Promise<{ store: WorkspaceStore; dispose: () => void }> {
  const store = await WorkspaceStore.open({
    persistence: input.persistence ?? memoryPersistence(),
    schema: input.show.schema,
    workspaceId: input.show.config.workspace.id,
    peerId: input.peerId ?? "peer-test",
    now: input.clock.now,
    random: input.clock.random,
    // A copy of a template store (a fixture start) goes on exactly where the template's clock stopped.
    ...(input.newId ? { newId: input.newId, continuesClock: true } : {}),
  });
  return { store, dispose: () => undefined };
}

/** The simulated world of one test. */
export interface TestWorld {
  clock: VirtualClock;
  /** Random numbers the clock drew so far (where a fixture start begins: fixture-start.ts). */
  drawn: () => number;
  quiet: RunQuiet;
  osc: SimOsc;
  http: SimHttp;
  midi: SimMidi;
  spies: ScriptSpies;
  files: SimFileWatch;
}

/** Scratch workspaces seeded from the show's state so far: each syncs as a peer of its own. */
let seededStores = 0;

/** `clock` with its random numbers counted, `skip` of them drawn already. */
function countingClock<C extends { now: () => number; random: () => number }>(clock: C, skip = 0): C & CountingClock {
  let n = 0;
  const inner = clock.random;
  const counted = Object.assign(clock, {
    random: (): number => {
      n++;
      return inner();
    },
    drawn: () => n,
  });
  for (let i = 0; i < skip; i++) counted.random();
  return counted;
}

export function testWorld(): TestWorld {
  const quiet = new RunQuiet();
  const clock = countingClock(virtualClock(quiet));
  return { clock, drawn: clock.drawn, quiet, osc: new SimOsc(), http: new SimHttp(clock), midi: new SimMidi(), spies: new ScriptSpies(), files: new SimFileWatch(quiet) };
}

/** Where the world stands for a fixture start. */
export function startPoint(world: TestWorld): StartPoint {
  return { now: world.clock.now(), drawn: world.drawn() };
}

export class ScratchWorkspace {
  readonly events: RuntimeEvent[] = [];
  readonly asked: DialogRequest[] = [];
  /** Answers by dialog message, given by sim.dialog.answer; an unanswered dialog gets null (dismissed). */
  readonly answers: DialogAnswer[] = [];
  readonly fired: FiredTrigger[] = [];
  /** While set, changes do not reach the triggers (a fixture is the state a test starts from, not an edit). */
  private muted = false;
  private dispatcher: TriggerDispatcher | null = null;
  /** Runs the test is waiting for (started during a waitFor): their sleeps elapse at once. */
  private readonly waited = new Set<string>();
  private waiting = 0;
  private simPeer: Promise<SimPeer> | null = null;
  private constructor(
    readonly store: WorkspaceStore,
    readonly runtime: ScriptRuntime,
    readonly world: TestWorld,
    private readonly dispose: () => void,
    private readonly openPeerStore: () => Promise<WorkspaceStore>,
  ) {}

  /** The other peer of this test (sim.peer), joined at its first use with what the store holds then. */
  peer(): Promise<SimPeer> {
    this.simPeer ??= SimPeer.join(this.store, this.openPeerStore);
    return this.simPeer;
  }

  /** What the runtime tells: kept for the test, and it says when runs start and end. */
  private heard(e: RuntimeEvent): void {
    this.events.push(e);
    if (e.type === "run.started" && this.waiting > 0) this.waited.add(e.runId);
    if (e.type === "run.finished") {
      this.world.clock.ended(e.runId);
      this.world.quiet.quiet(e.runId);
    }
  }

  /**
   * Waits for `p` (a run, or changes whose triggers run) with virtual time moving for the runs
   * it waits for: `runId` and every run started meanwhile (triggered ones).
   */
  async waitFor<T>(p: Promise<T> | (() => Promise<T>), runId?: string): Promise<T> {
    this.waiting++;
    if (runId) this.waited.add(runId);
    try {
      return await this.world.clock.whileWaiting(typeof p === "function" ? p() : p, (id) => this.waited.has(id));
    } finally {
      this.waiting--;
    }
  }

  private startTriggers(show: ShowTriggers, now: () => number): void {
    const inner = createRuntimeTriggerRunner(this.runtime);
    const runner: TriggerRunner = {
      run: async (req, signal) => {
        const f: FiredTrigger = {
          ...describeFiring(req),
          runId: null,
          status: "running",
        };
        this.fired.push(f);
        const out = await inner.run(req, signal);
        Object.assign(f, { runId: out.runId, status: out.status }, out.error ? { error: out.error } : {});
        return out;
      },
    };
    const store = this.store;
    this.dispatcher = createTriggerDispatcher({
      store: {
        onChange: (l) => store.onChange((e) => void (this.muted || l(e))),
        getField: (id, name) => store.getField(id, name),
        edgesOf: (entity, o) => store.edgesOf(entity, o),
      },
      triggers: show.triggers,
      rejected: show.rejected,
      runner,
      now,
    });
  }

  /** Runs `fn` with the triggers deaf to its changes. */
  async quietly<T>(fn: () => Promise<T>): Promise<T> {
    this.muted = true;
    try {
      return await fn();
    } finally {
      this.muted = false;
    }
  }

  /** Waits until every trigger run the changes so far caused has ended. */
  async settle(): Promise<void> {
    await this.dispatcher?.idle();
  }

  /**
   * A test's workspace: empty (or the show's state, --daemon), or `start`'s post-fixture state
   * on a copy of its space, the test's ids and random numbers replayed to where that fixture
   * left them.
   */
  static async open(input: { show: ShowUnderTest; engine: LuaEngine; world: TestWorld; parentDir: string; start?: FixtureStart }): Promise<ScratchWorkspace> {
    const { show, triggers } = input.show;
    const { clock, quiet, midi } = input.world;
    const start = input.start;
    // --daemon: the show's state, merged in before any trigger listens (it is where the test starts; a fixture start holds it already).
    const { store, dispose } = start
      ? await openScratchStore({ show, clock, persistence: memoryCopy(start.persistence), newId: resume(start, { now: clock.now, random: clock.random, drawn: input.world.drawn }) })
      : await openScratchStore({ show, clock }).then(async (o) => ({ ...o, store: await seeded(input.show.state, o.store) }));
    const holder: { ws: ScratchWorkspace | null } = { ws: null };
    const runtime = createScriptRuntime({
      store,
      engine: input.world.spies.engine(input.engine),
      scripts: input.show.scripts,
      events: { emit: (e) => holder.ws?.heard(e) },
      dialogs: { ask: async (req) => (holder.ws ? holder.ws.answer(req) : null) },
      clock: clock.now,
      random: clock.random,
      capabilities: (s) => triggers.capabilities.get(s.id) ?? CapabilitySet.none,
      sleep: (ms, runId) => clock.sleep(ms, runId),
      midi,
      ioSeams: (runId) => simIoSeams(input.world, runId),
    });
    // Its own ids (another seed) and peer id; the same virtual time.
    const peerRandom = virtualClock(quiet, EPOCH_MS, 0xbee5).random;
    const openPeer = async (): Promise<WorkspaceStore> =>
      (await openScratchStore({ show, clock: { now: clock.now, random: peerRandom }, peerId: SIM_PEER_ID })).store;
    const ws = new ScratchWorkspace(store, runtime, input.world, dispose, openPeer);
    holder.ws = ws;
    ws.startTriggers(triggers, clock.now);
    return ws;
  }

  private answer(req: DialogRequest): unknown {
    this.asked.push(req);
    const i = this.answers.findIndex((a) => a.message === req.message);
    if (i < 0) return null;
    return this.answers.splice(i, 1)[0].value;
  }

  async close(): Promise<void> {
    this.dispatcher?.stop();
    // Runs still going (a listener, a sleeping trigger run) are stopped before waiting for them.
    await this.runtime.shutdown("test finished");
    await this.settle();
    if (this.simPeer) await (await this.simPeer).close();
    await this.store.close();
    this.dispose();
  }
}

export function scratchRoot(): string {
  return mkdtempSync(path.join(tmpdir(), "openprod-test-"));
}
