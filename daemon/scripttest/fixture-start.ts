/**
 * Cached fixture starts. Most tests begin with `fixture.load(...)` of the same few files, and
 * applying a fixture (hundreds of Automerge writes) costs more than the rest of a test. So a
 * fixture is applied once per runner run, in a template store, from the very point a test starts
 * at; each test that starts the same way opens its own store on a copy of the template's memory
 * space (memoryCopy): nothing one test writes is seen by the next, and the state is the one a
 * fresh apply makes.
 *
 * "The very point": the test's virtual clock (time, and how many random numbers it drew) and
 * the fixture file as it is now (path, mtime, size). Ids come from the clock's random numbers,
 * so the template's fixture ids are the test's; the test's own id generator and random stream
 * are then replayed to where the fixture left them (resume), so ids made later in the test are
 * the ones an uncached run makes too.
 */
import { stat } from "node:fs/promises";
import { createIdGenerator, InvalidOperation, memoryPersistence } from "../crdt/index.ts";
import type { IdGenerator, OpenPersistence, WorkspaceStore } from "../crdt/index.ts";
import { loadFixture } from "./fixture.ts";
import type { FixtureIds } from "./fixture.ts";

/** Where a test stands when it loads its first fixture. */
export interface StartPoint {
  /** Virtual time, ms. */
  now: number;
  /** Random numbers the test's clock drew so far. */
  drawn: number;
}

/** A clock standing at a start point (the same seed as every test's), counting what it draws. */
export interface CountingClock {
  now: () => number;
  random: () => number;
  drawn: () => number;
}

export interface FixtureStart {
  /** The template's memory space, closed: copied for each test (memoryCopy). */
  readonly persistence: OpenPersistence;
  /** The fixture's names → ids (what fixture.load returns). */
  readonly ids: FixtureIds;
  /** Ids the template's generator made (the fixture's entities and edges). */
  readonly idsMade: number;
  /** The last of them: the replay in resume() must arrive at it. */
  readonly lastId: string | null;
  /** Random numbers the template's clock had drawn once the fixture was in. */
  readonly drawnAfter: number;
}

/** Opens a store of the show (seeded as each test's is) on `persistence` with the given clock and ids. */
export type TemplateStore = (input: { clock: CountingClock; persistence: OpenPersistence; newId: IdGenerator }) => Promise<WorkspaceStore>;

/** Templates kept per run; a run loading more distinct fixture starts than this starts over. */
const MAX_STARTS = 64;

export class FixtureStarts {
  private readonly made = new Map<string, Promise<FixtureStart>>();

  constructor(
    private readonly openTemplate: TemplateStore,
    /** A fresh clock standing at `at`. */
    private readonly clockAt: (at: StartPoint) => CountingClock,
  ) {}

  /**
   * The start for `file` from `at`: made now (the fixture applied once in a template store) or
   * taken from an earlier test. A fixture that fails to load throws what loadFixture throws,
   * and is tried again by the next test (the file may have been fixed).
   */
  async start(file: string, label: string, at: StartPoint): Promise<FixtureStart> {
    let key: string;
    try {
      const st = await stat(file);
      key = JSON.stringify([file, st.mtimeMs, st.size, at.now, at.drawn]);
    } catch {
      // Not there: loadFixture says so in its own words.
      return this.make(file, label, at);
    }
    let p = this.made.get(key);
    if (!p) {
      if (this.made.size >= MAX_STARTS) this.made.clear();
      p = this.make(file, label, at);
      this.made.set(key, p);
      p.catch(() => this.made.delete(key));
    }
    return p;
  }

  private async make(file: string, label: string, at: StartPoint): Promise<FixtureStart> {
    const clock = this.clockAt(at);
    const gen = createIdGenerator(clock.now, clock.random);
    let idsMade = 0;
    let lastId: string | null = null;
    const newId: IdGenerator = () => {
      idsMade++;
      return (lastId = gen());
    };
    const persistence = memoryPersistence();
    const store = await this.openTemplate({ clock, persistence, newId });
    let ids: FixtureIds;
    try {
      ids = await loadFixture(store, file, label);
      // A full save with the indexes beside it: each copy loads the document in one piece and
      // takes the indexes as saved, instead of replaying the changes and scanning every entity.
      await store.compact();
    } finally {
      await store.close();
    }
    return { persistence, ids, idsMade, lastId, drawnAfter: clock.drawn() };
  }
}

/**
 * The test's id generator, replayed to where the template's was after the fixture, with the
 * test's clock drawn as far as the template's: from here on, the test makes the ids and draws
 * the numbers a fresh apply of the fixture would have left it to make and draw.
 */
export function resume(start: FixtureStart, clock: CountingClock): IdGenerator {
  const gen = createIdGenerator(clock.now, clock.random);
  let last: string | null = null;
  for (let i = 0; i < start.idsMade; i++) last = gen();
  while (clock.drawn() < start.drawnAfter) clock.random();
  if (last !== start.lastId || clock.drawn() !== start.drawnAfter) {
    // Only a test that did not start where the template did gets here (the key says it did).
    throw new InvalidOperation(`openprod test: a cached fixture start does not match the test's clock (ids ${String(last)} vs ${String(start.lastId)}, draws ${clock.drawn()} vs ${start.drawnAfter})`, {});
  }
  return gen;
}
