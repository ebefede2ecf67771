import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliKit, ROOT } from "./fixtures/daemon-cli.ts";

// docs/getting-started.md followed literally: every command of its ```sh blocks, in the page's
// order, through the real CLI binary, with ~ a fresh home folder. The page's placeholders
// (<id>, <scene>, <cue>, <session>, <address>, <code>) are filled from what earlier commands
// printed, as a reader would. Long-running commands (daemon, log -f) run in the background.
const PAGE = path.join(ROOT, "docs", "getting-started.md");
const kit = new CliKit();
let home = "";
const background: ChildProcess[] = [];

interface Step {
  section: string;
  line: string;
  words: string[];
}

/** The page's commands, in order, each with the heading it is under. */
function pageCommands(): Step[] {
  const steps: Step[] = [];
  let section = "";
  let inSh = false;
  for (const raw of fs.readFileSync(PAGE, "utf8").split("\n")) {
    const line = raw.trim();
    if (!inSh && line.startsWith("## ")) section = line.slice(3);
    if (line === "```sh") inSh = true;
    else if (line.startsWith("```")) inSh = false;
    else if (inSh && line !== "") {
      const words = shellWords(line);
      if (words.length) steps.push({ section, line, words });
    }
  }
  return steps;
}

/** Words of a shell line as sh splits them (quotes, comments); `~` at a word's start is the home folder. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end === -1) throw new Error(`unbalanced quote in: ${line}`);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === " ") {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "#" && word === null) break;
    else word = (word ?? "") + c;
  }
  if (word !== null) words.push(word);
  return words;
}

function run(words: string[], cwd: string, timeoutMs = 60_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "openprod.js"), ...words], { cwd, env: { ...kit.env, HOME: home }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`openprod ${words.join(" ")} did not finish in ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
  });
}

/** Starts a long-running command and resolves once its output matches. */
function start(words: string[], cwd: string, ready: RegExp): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(process.execPath, [path.join(ROOT, "bin", "openprod.js"), ...words], { cwd, env: { ...kit.env, HOME: home }, stdio: ["ignore", "pipe", "pipe"] });
  background.push(child);
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`openprod ${words.join(" ")}: no ${String(ready)} in 60 s: ${out}`)), 60_000);
    const seen = (d: Buffer): void => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({ child, out: () => out });
      }
    };
    child.stdout?.on("data", seen);
    child.stderr?.on("data", seen);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (!ready.test(out)) reject(new Error(`openprod ${words.join(" ")} exited (${code}) before ${String(ready)}: ${out}`));
    });
  });
}

/** What each kind of command must print for the step to count as done (first match wins). */
const EXPECT: Array<[RegExp, RegExp]> = [
  [/^init /, /created show hamlet/],
  [/^status/, /hamlet/],
  [/^create lighting_cues number=12/, /^[0-9A-Za-z-]{10,}\s*$/],
  [/^create /, /^[0-9A-Za-z-]{10,}\s*$/],
  [/^query .*number == \?/, /Q12 Blackout/],
  [/^query .*scene == \?/, /Q1 .*\n.*Q2 |2 entities/],
  [/^set /, /^bundle [0-9a-f]{12} at /],
  [/^get \S+ label --dir/, /House to half/],
  [/^get \S+ label/, /House to half/],
  [/^get \S+ fired_at/, /\d\d:\d\d:\d\d/],
  [/^get /, /label = House to half/],
  [/^history /, /label Blackout → House to half/],
  [/^link /, /^[0-9A-Za-z-]{10,}\s*$/],
  [/^run renumber_cues/, /session \S+ is open for review/],
  [/^sessions/, /\S/],
  [/^session show/, /number/],
  [/^session commit/, /commit/],
  [/^traces cue_started/, /status: standby → running +ok +run-/],
  [/^triggers/, /cue_started/],
  [/^invite/, /openprod join \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\w+ --code \w{4}-\w{4}/],
  [/^join /, /joined show hamlet/],
  [/^peers/, /\(12D3\w+\) at \/ip4\/127\.0\.0\.1\//],
];

beforeAll(async () => {
  await kit.build();
  home = kit.tempDir("op-home-");
}, 90_000);

afterAll(async () => {
  for (const c of background) c.kill("SIGTERM");
  await Promise.all(background.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : undefined)));
  await kit.cleanup();
});

describe("docs/getting-started.md, followed literally, works command by command", () => {
  it("every command of the page succeeds and prints what the page says", async () => {
    const steps = pageCommands();
    // The page's two commands for a fresh clone: this test runs inside the second, and the first runs a daemon in the repository.
    const skipped = steps.filter((s) => s.words[0] === "npm").map((s) => s.line);
    expect(skipped).toEqual(["npm install && npm start    # runs the daemon on the example show (copied to .openprod-example/)", "npm install && npm test     # type-check, lint and the whole test suite"]);
    const commands = steps.filter((s) => s.words[0] !== "npm");
    expect(commands.length).toBeGreaterThan(25);

    let cwd = home;
    const values: Record<string, string> = {};
    const cues: string[] = [];
    const done: string[] = [];
    for (const step of commands) {
      if (step.words[0] === "cd") {
        cwd = step.words[1].replace(/^~/, home);
        expect(fs.existsSync(cwd), step.line).toBe(true);
        continue;
      }
      expect(step.words[0], step.line).toBe("openprod");
      const rest = step.words.slice(1).map((w) => w.replace(/^~/, home));
      const fill = (words: string[]): string[] =>
        words.map((w) =>
          w.replace(/<(id|scene|cue|session|address|code)>/g, (_, k: string) => {
            const v = values[k];
            if (v === undefined) throw new Error(`"${step.line}" (in "${step.section}") uses <${k}> before any command printed one`);
            return v;
          }),
        );
      const text = rest.join(" ");
      if (rest[0] === "daemon") {
        const d = await start(fill(rest), cwd, /peer id +12D3\w+[\s\S]*listening on/);
        expect(d.out(), step.line).toContain("run `openprod invite` here");
        done.push(step.line);
        continue;
      }
      if (rest[0] === "log" && rest.includes("-f")) {
        const f = await start(fill(rest), cwd, /daemon ready for/);
        f.child.kill("SIGTERM");
        done.push(step.line);
        continue;
      }
      // "once per cue": the link runs for every cue the section made.
      const perCue = step.line.includes("# once per cue") ? cues.map((c) => ({ ...values, cue: c })) : [values];
      for (const v of perCue) {
        Object.assign(values, v);
        const words = fill(rest);
        // Right after the second daemon starts, its copy of the show may still be syncing.
        const patient = step.line.includes("--dir ~/shows/hamlet-b") && rest[0] === "get";
        let r = await run(words, cwd);
        for (let i = 0; patient && i < 60 && !(r.code === 0 && /House to half/.test(r.out)); i++) {
          await new Promise((res) => setTimeout(res, 500));
          r = await run(words, cwd);
        }
        expect(r.code, `${step.line}\n${r.out}`).toBe(0);
        const want = EXPECT.find(([k]) => k.test(text))?.[1];
        expect(want, `no expectation for "${step.line}": say what it prints in EXPECT`).toBeDefined();
        expect(r.out, step.line).toMatch(want as RegExp);
        // What a reader takes from the output for the next commands.
        if (rest[0] === "create" && rest[1] === "lighting_cues") {
          if (values.id === undefined) values.id = r.out.trim();
          else cues.push(r.out.trim());
          if (values.cue === undefined && cues.length) values.cue = cues[0];
        }
        if (rest[0] === "create" && rest[1] === "scenes") values.scene = r.out.trim();
        if (rest[0] === "run") values.session = /session (\S+) is open for review/.exec(r.out)?.[1] ?? "";
        if (rest[0] === "invite") {
          const m = /openprod join (\S+) --code (\S+)/.exec(r.out);
          values.address = m?.[1] ?? "";
          values.code = m?.[2] ?? "";
        }
      }
      if (values.cue === undefined && cues.length) values.cue = cues[0];
      done.push(step.line);
    }
    expect(done.length).toBe(commands.filter((s) => s.words[0] !== "cd").length);
  }, 400_000);
});
