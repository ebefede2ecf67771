/** Reading an `openprod test` suite's results in the project's tests. */
import { expect } from "vitest";
import { textReport } from "../../daemon/scripttest/index.ts";
import type { SuiteResult } from "../../daemon/scripttest/index.ts";

/** Every test of the suite passed, and there was at least one; otherwise fails with the suite's readable report. */
export function expectAllPass(s: SuiteResult): void {
  if (s.failed > 0) throw new Error(textReport(s));
  expect(s.passed).toBeGreaterThan(0);
}

/** The messages of the failed tests, in file and test order. */
export function failures(s: SuiteResult): string[] {
  return s.files.flatMap((f) => f.tests.filter((t) => t.status === "fail").map((t) => t.failure?.message ?? ""));
}
