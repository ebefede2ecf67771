/**
 * Reporters: readable text (default), TAP version 13, JUnit XML and JSON, each a function of
 * the suite's results.
 */
import type { FileResult, SuiteResult, TestFailure, TestResult } from "./results.ts";

export const REPORTERS = ["text", "tap", "junit", "json"] as const;
export type ReporterName = (typeof REPORTERS)[number];

const at = (f: { file?: string; line?: number }): string => (f.file ? `${f.file}${f.line ? `:${f.line}` : ""}` : "");

function failureLines(f: TestFailure, indent: string): string[] {
  const lines = [`${indent}${at(f) ? `${at(f)}: ` : ""}${f.message}`];
  if (f.expected !== undefined) lines.push(`${indent}  expected: ${f.expected}`);
  if (f.actual !== undefined) lines.push(`${indent}  actual:   ${f.actual}`);
  return lines;
}

function summary(s: SuiteResult): string {
  return `${s.passed} passed, ${s.failed} failed, ${s.pending} pending (${s.files.length} file${s.files.length === 1 ? "" : "s"}, ${Math.round(s.ms)} ms)`;
}

/** Each file, its tests indented under their describes, failures with expected/actual and file:line. */
export function textReport(s: SuiteResult): string {
  const out: string[] = [];
  for (const f of s.files) {
    // A file whose tests --filter left out says nothing.
    if (f.tests.length === 0 && !f.error) continue;
    out.push(f.file);
    if (f.error) out.push(...failureLines(f.error, "  ✗ "));
    let shown: string[] = [];
    for (const t of f.tests) {
      const groups = t.path.slice(0, -1);
      let common = 0;
      while (common < groups.length && shown[common] === groups[common]) common++;
      for (let i = common; i < groups.length; i++) out.push(`${"  ".repeat(i + 1)}${groups[i]}`);
      shown = groups;
      const pad = "  ".repeat(groups.length + 1);
      const mark = t.status === "pass" ? "✓" : t.status === "fail" ? "✗" : "-";
      out.push(`${pad}${mark} ${t.path[t.path.length - 1]}${t.status === "pending" ? " (pending)" : ""}`);
      if (t.failure) out.push(...failureLines(t.failure, `${pad}    `));
    }
  }
  if (s.files.length === 0) out.push("no test files found (*_test.lua under workspace/tests/ or modules/<m>/tests/)");
  out.push("", summary(s));
  return out.join("\n") + "\n";
}

const testName = (t: TestResult): string => t.path.join(" ");

function yamlString(v: string): string {
  return JSON.stringify(v);
}

/** TAP version 13: one test point per it (pending as # SKIP), failures with a YAML block. */
export function tapReport(s: SuiteResult): string {
  const points: { ok: boolean; name: string; directive?: string; failure?: TestFailure }[] = [];
  for (const f of s.files) {
    if (f.error) points.push({ ok: false, name: `${f.file} (could not run)`, failure: f.error });
    for (const t of f.tests) {
      points.push({ ok: t.status !== "fail", name: `${f.file}: ${testName(t)}`, directive: t.status === "pending" ? "SKIP pending" : undefined, failure: t.failure });
    }
  }
  const out = ["TAP version 13", `1..${points.length}`];
  points.forEach((p, i) => {
    // "#" starts a directive in TAP: keep it out of names.
    const name = p.name.replace(/#/g, "\\#");
    out.push(`${p.ok ? "ok" : "not ok"} ${i + 1} - ${name}${p.directive ? ` # ${p.directive}` : ""}`);
    if (p.failure) {
      out.push("  ---", `  message: ${yamlString(p.failure.message)}`);
      if (p.failure.expected !== undefined) out.push(`  expected: ${yamlString(p.failure.expected)}`);
      if (p.failure.actual !== undefined) out.push(`  actual: ${yamlString(p.failure.actual)}`);
      if (at(p.failure)) out.push(`  at: ${yamlString(at(p.failure))}`);
      out.push("  ...");
    }
  });
  out.push(`# ${summary(s)}`);
  return out.join("\n") + "\n";
}

function xml(v: string): string {
  // Characters XML 1.0 cannot hold at all are dropped; the five specials escaped.
  // eslint-disable-next-line no-control-regex
  return v.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

function failureText(f: TestFailure): string {
  return failureLines(f, "").join("\n");
}

/** JUnit XML: a testsuite per file, a testcase per it; failures and errors as the format has them. */
export function junitReport(s: SuiteResult): string {
  const secs = (ms: number): string => (ms / 1000).toFixed(3);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="openprod test" tests="${s.passed + s.failed + s.pending}" failures="${s.failed}" skipped="${s.pending}" time="${secs(s.ms)}">`];
  for (const f of s.files) out.push(...suiteXml(f, secs));
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}

function suiteXml(f: FileResult, secs: (ms: number) => string): string[] {
  const failures = f.tests.filter((t) => t.status === "fail" && !t.failure?.error).length;
  const errors = f.tests.filter((t) => t.status === "fail" && t.failure?.error).length + (f.error ? 1 : 0);
  const skipped = f.tests.filter((t) => t.status === "pending").length;
  const out = [`  <testsuite name="${xml(f.file)}" tests="${f.tests.length + (f.error ? 1 : 0)}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${secs(f.ms)}">`];
  if (f.error) {
    out.push(`    <testcase classname="${xml(f.file)}" name="(file)" time="0">`, `      <error message="${xml(f.error.message)}">${xml(failureText(f.error))}</error>`, "    </testcase>");
  }
  for (const t of f.tests) {
    const classname = xml([f.file, ...t.path.slice(0, -1)].join(" "));
    const head = `    <testcase classname="${classname}" name="${xml(t.path[t.path.length - 1] ?? "")}" time="${secs(t.ms)}"${t.file ? ` file="${xml(t.file)}"` : ""}${t.line ? ` line="${t.line}"` : ""}`;
    if (t.status === "pass") out.push(`${head}/>`);
    else if (t.status === "pending") out.push(`${head}>`, "      <skipped/>", "    </testcase>");
    else {
      const fl = t.failure ?? { message: "failed" };
      const tag = fl.error ? "error" : "failure";
      out.push(`${head}>`, `      <${tag} message="${xml(fl.message)}">${xml(failureText(fl))}</${tag}>`, "    </testcase>");
    }
  }
  out.push("  </testsuite>");
  return out;
}

export function jsonReport(s: SuiteResult): string {
  return JSON.stringify(s, null, 2) + "\n";
}

export function report(name: ReporterName, s: SuiteResult): string {
  switch (name) {
    case "tap":
      return tapReport(s);
    case "junit":
      return junitReport(s);
    case "json":
      return jsonReport(s);
    case "text":
      return textReport(s);
  }
}
