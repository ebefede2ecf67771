/**
 * `openprod run`: starts a script in the daemon and follows it: its log
 * lines, progress and toasts go to the terminal as they happen, its dialogs
 * are answered (on a terminal, or with --answer), and the outcome is printed
 * once it ends.
 */
import readline from "node:readline/promises";
import type { CommandContext } from "./command.ts";
import { UsageError, jsonObject, parseValue } from "./args.ts";
import { cliUser, daemonClient } from "./connection.ts";
import { RpcError } from "../../protocol/index.ts";
import type { Client } from "../../protocol/index.ts";
import type { DaemonEvent } from "../../protocol/index.ts";
import type { DialogEvent } from "../../protocol/index.ts";
import type { RunSummary } from "../../protocol/index.ts";
import { profileReport, topRows } from "./profile-output.ts";

const FOLLOWED = ["log", "progress", "toast", "navigate", "dialog.request", "dialog.closed", "session.conflicts"] as const;

export async function runScript(ctx: CommandContext): Promise<number> {
  const script = ctx.args.positional[0];
  const args = scriptArgs(ctx);
  const answer = typeof ctx.args.flags.answer === "string" ? ctx.args.flags.answer : undefined;
  const stdin = ctx.io.stdin ?? process.stdin;
  const interactive = !ctx.json && answer === undefined && stdin.isTTY === true;
  const out = ctx.io.stdout;
  const say = (line: string): void => {
    if (!ctx.json) out.write(line + "\n");
  };
  const progress = new ProgressLine(ctx.json ? null : out);
  const profile = ctx.args.flags.profile === true;
  const top = topRows(ctx, "run");

  const client = await daemonClient(ctx);
  try {
    // Events come before we know our run id: keep them until then, then drop other runs'.
    let runId: string | null = null;
    const early: DaemonEvent[] = [];
    const dialogs = new DialogAnswers(client, (line) => say(line), answer, interactive ? stdin : null, ctx.io.stdout);
    const onEvent = (e: DaemonEvent): void => {
      if (runId === null) return void early.push(e);
      if (!("runId" in e) || e.runId !== runId) return;
      switch (e.type) {
        case "progress":
          progress.update(e);
          return;
        case "toast":
          progress.clear();
          say(`${e.level === "info" ? "toast" : `toast (${e.level})`}: ${e.message}`);
          return;
        case "navigate":
          say(`navigate ${e.action}: ${JSON.stringify(e.target)}`);
          return;
        case "dialog.request":
          progress.clear();
          dialogs.ask(e);
          return;
        case "dialog.closed":
          dialogs.closed(e.id, e.reason);
          return;
        case "session.conflicts":
          say(`session ${e.sessionId}: ${e.conflicts} conflict(s) with changes made since the run started`);
          return;
      }
    };
    // Log events carry the run in their fields.
    const onAny = (e: DaemonEvent): void => {
      if (e.type === "log") {
        if (runId === null) return void early.push(e);
        if (e.fields.runId !== runId) return;
        progress.clear();
        say(`[${e.level}] ${e.msg}`);
        return;
      }
      onEvent(e);
    };
    await client.subscribe(onAny, [...FOLLOWED]);
    const user = await cliUser(ctx);
    const started = (await client
      .request("scripts.run", { script, args, commit: ctx.args.flags.commit === true, wait: false, ...(user === undefined ? {} : { user }), ...(profile ? { profile } : {}) })
      .catch((e: unknown) => {
        // Args that do not fit the script's declared ones are a mistake in the command line.
        if (e instanceof RpcError && e.type === "InvalidOperation" && Array.isArray(e.data.details.missing)) throw new UsageError(`${e.message}; see openprod run ${script} --help`, "run");
        throw e;
      }));
    runId = started.runId;
    for (const e of early.splice(0)) onAny(e);
    const stopOnInterrupt = interruptHandler(client, runId, say, interactive ? stdin : null, ctx.io.stdout, () => progress.clear());
    let r: RunSummary;
    try {
      r = await client.request("runs.wait", { runId });
    } finally {
      stopOnInterrupt();
    }
    progress.clear();
    dialogs.close();

    const ok = r.status === "ok" && r.commit?.status !== "conflicts";
    const recorded = profile ? (await client.request("runs.get", { runId: r.runId })).record.profile : undefined;
    const report = recorded ? profileReport(ctx, r.runId, script, recorded, top) : null;
    if (ctx.json) {
      const doc: Record<string, unknown> = { run_id: r.runId, status: r.status, session_id: r.sessionId, ops: r.ops };
      if (recorded) doc.profile = recorded;
      if (report?.file) doc.profile_out = report.file;
      if (r.error) doc.error = r.error;
      if (r.commit) doc.commit = r.commit;
      if (r.skips.length) doc.skips = r.skips;
      out.write(JSON.stringify(doc) + "\n");
      return ok ? 0 : 1;
    }
    say(`run ${r.runId}: ${r.status}, ${r.ops} op(s)${r.bundles ? `, ${r.bundles} bundle(s)` : ""}`);
    if (r.error) say(`${r.error.type}: ${r.error.file ? `${r.error.file}${r.error.line ? `:${r.error.line}` : ""}: ` : ""}${r.error.message}`);
    for (const s of r.skips) say(`skipped ${s.binding}: ${s.error.type}: ${s.error.message}`);
    if (r.commit?.status === "committed") say(`committed session ${r.sessionId ?? ""}${r.commit.hash ? `: bundle ${r.commit.hash.slice(0, 12)}` : ""} (${r.commit.ops} op(s))`);
    else if (r.commit?.status === "conflicts") say(`session ${r.sessionId ?? ""} was not committed: ${r.commit.conflicts.length} conflict(s); see openprod session conflicts ${r.sessionId ?? ""}`);
    else if (r.sessionId && r.sessionStatus === "open") {
      say(`session ${r.sessionId} is open for review: openprod session show ${r.sessionId}, then openprod session commit ${r.sessionId}`);
    } else if (r.sessionId) say(`session ${r.sessionId}: ${r.sessionStatus ?? "closed"}`);
    if (report) say("\n" + report.text);
    return ok ? 0 : 1;
  } finally {
    client.close();
  }
}

/**
 * Ctrl-C while the run goes: stops it (runs.cancel), after asking on a terminal whether to keep
 * its overlay for review; without a terminal the overlay is discarded, as the spec's cancel
 * says. A second Ctrl-C while asking cancels at once. Returns the function that uninstalls it.
 */
function interruptHandler(
  client: Client,
  runId: string,
  say: (line: string) => void,
  stdin: NodeJS.ReadStream | null,
  stdout: NodeJS.WritableStream,
  clear: () => void,
): () => void {
  let asked = false;
  const cancel = (keepOverlay: boolean): void => {
    say(`stopping run ${runId}${keepOverlay ? " (its overlay is kept for review)" : ""}...`);
    client.request("runs.cancel", { target: runId, keepOverlay }).catch((e: unknown) => say(`could not stop run ${runId}: ${(e as Error).message}`));
  };
  const onSigint = (): void => {
    clear();
    if (asked || stdin === null) return cancel(false);
    asked = true;
    const rl = readline.createInterface({ input: stdin, output: stdout });
    rl.once("SIGINT", () => {
      rl.close();
      cancel(false);
    });
    void rl.question(`stop run ${runId}: keep its overlay for review? [y/N] `).then((typed) => {
      rl.close();
      cancel(/^(y|yes)$/i.test(typed.trim()));
    }, () => undefined);
  };
  process.on("SIGINT", onSigint);
  return () => void process.off("SIGINT", onSigint);
}

export function scriptArgs(ctx: CommandContext, command = "run"): Record<string, unknown> {
  const args: Record<string, unknown> = typeof ctx.args.flags.args === "string" ? jsonObject(ctx.args.flags.args, command) : {};
  for (const pair of ctx.args.lists.arg ?? []) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw new UsageError(`--arg takes key=value, got "${pair}"`, command);
    args[pair.slice(0, eq)] = parseValue(pair.slice(eq + 1));
  }
  return args;
}

/** Answers dialogs one at a time: from --answer, from the terminal, or not at all (they time out). */
class DialogAnswers {
  private queue: Promise<void> = Promise.resolve();
  private rl: readline.Interface | null = null;
  private readonly done = new Set<string>();

  constructor(
    private readonly client: Client,
    private readonly say: (line: string) => void,
    private readonly answer: string | undefined,
    private readonly stdin: NodeJS.ReadStream | null,
    private readonly stdout: NodeJS.WritableStream,
  ) {}

  ask(d: DialogEvent): void {
    this.queue = this.queue.then(() => this.handle(d)).catch((e: unknown) => this.say(`dialog ${d.id}: ${(e as Error).message}`));
  }

  closed(id: string, reason: string): void {
    this.done.add(id);
    if (reason !== "answered") this.say(`dialog ${id} ${reason === "timeout" ? "timed out" : "was abandoned"}: the script gets an error`);
  }

  close(): void {
    this.rl?.close();
    this.rl = null;
  }

  private async handle(d: DialogEvent): Promise<void> {
    if (this.done.has(d.id)) return;
    const options = d.kind === "select" || d.kind === "error" ? ` [${d.options.join(" / ")}]` : d.kind === "confirm" ? " [y/n]" : "";
    if (this.answer !== undefined) {
      const value = answerFor(d, this.answer);
      this.say(`dialog: ${d.message}${options} → ${JSON.stringify(value)}`);
      await this.client.request("dialog.respond", { id: d.id, answer: value });
      return;
    }
    if (this.stdin === null) {
      this.say(`dialog: ${d.message}${options}: not answered here (no terminal; use --answer); it times out in ${Math.round(d.timeoutMs / 1000)} s`);
      return;
    }
    this.rl ??= readline.createInterface({ input: this.stdin, output: this.stdout });
    const hint = d.kind === "prompt" && d.default !== undefined ? ` (default ${d.default})` : "";
    const typed = await this.rl.question(`${d.message}${options}${hint} `);
    if (this.done.has(d.id)) return;
    const text = typed === "" && d.kind === "prompt" && d.default !== undefined ? d.default : typed;
    await this.client.request("dialog.respond", { id: d.id, answer: answerFor(d, text) });
  }
}

/** What a typed answer means for each kind of dialog. */
function answerFor(d: DialogEvent, text: string): string | boolean | null {
  switch (d.kind) {
    case "confirm":
      return /^(y|yes|true|ok|1)$/i.test(text.trim());
    case "prompt":
      return text;
    case "select":
    case "error": {
      const n = Number(text);
      if (Number.isInteger(n) && n >= 1 && n <= d.options.length && !(d.options as readonly string[]).includes(text)) return d.options[n - 1];
      return text;
    }
  }
}

/** One line redrawn in place on a terminal; otherwise one line per update. */
class ProgressLine {
  private shown = false;
  constructor(private readonly out: NodeJS.WritableStream | null) {}

  private get tty(): boolean {
    return (this.out as NodeJS.WriteStream | null)?.isTTY === true;
  }

  update(e: Extract<DaemonEvent, { type: "progress" }>): void {
    if (!this.out) return;
    const total = e.total ?? null;
    const current = e.current ?? 0;
    const label = e.label ? `${e.label} ` : "";
    if (!this.tty) {
      // Not a terminal (a log file, a pipe): one line per update, as it comes.
      const count = `${current}${total !== null ? `/${total}` : ""}`;
      if (e.phase === "start") this.out.write(`progress: ${label}started${total !== null ? ` (${total})` : ""}\n`);
      else if (e.phase === "complete") this.out.write(`progress: ${label}complete (${count})\n`);
      else this.out.write(`progress: ${label}${count}\n`);
      return;
    }
    const width = 30;
    const filled = total ? Math.min(width, Math.round((current / total) * width)) : 0;
    this.out.write(`\r[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${current}${total !== null ? `/${total}` : ""} ${label}`);
    this.shown = true;
    if (e.phase === "complete") this.clear();
  }

  clear(): void {
    if (this.shown && this.out) this.out.write("\n");
    this.shown = false;
  }
}
