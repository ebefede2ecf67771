/**
 * `openprod test`: runs a show's *_test.lua files (busted's shape) in the real Lua engine and
 * script runtime, each test on a fresh scratch workspace, with a virtual clock and simulated
 * dialogs; reports as text, TAP, JUnit XML or JSON.
 */
export { runTests } from "./runner.ts";
export type { RunTestsOptions } from "./runner.ts";
export { findTestFiles } from "./discover.ts";
export { watchTests } from "./watch.ts";
export type { TestWatch, WatchTestsOptions } from "./watch.ts";
export { loadFixture } from "./fixture.ts";
export type { FixtureIds } from "./fixture.ts";
export { report, textReport, tapReport, junitReport, jsonReport, REPORTERS } from "./reporters.ts";
export type { ReporterName } from "./reporters.ts";
export type { FileResult, SuiteResult, TestFailure, TestResult } from "./results.ts";
