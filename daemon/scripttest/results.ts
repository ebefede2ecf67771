/** What a test run produces: one result per `it` (or `pending`), grouped by file. */

export interface TestFailure {
  message: string;
  /** Printed Lua values, for assertions that compare. */
  expected?: string;
  actual?: string;
  /** Where it failed: the assertion's (or the error's) Lua file and line. */
  file?: string;
  line?: number;
  /** True when an error, not an assertion, ended the test. */
  error?: boolean;
}

export interface TestResult {
  /** describe names, then the it name. */
  path: string[];
  status: "pass" | "fail" | "pending";
  failure?: TestFailure;
  /** Where the `it` is declared. */
  file?: string;
  line?: number;
  ms: number;
}

export interface FileResult {
  /** Path relative to the show directory. */
  file: string;
  tests: TestResult[];
  /** The file could not run at all (syntax error, timeout): the reason. */
  error?: TestFailure;
  ms: number;
}

export interface SuiteResult {
  files: FileResult[];
  passed: number;
  failed: number;
  pending: number;
  ms: number;
}

export function suiteOf(files: FileResult[], ms: number): SuiteResult {
  let passed = 0;
  let failed = 0;
  let pending = 0;
  for (const f of files) {
    if (f.error) failed++;
    for (const t of f.tests) {
      if (t.status === "pass") passed++;
      else if (t.status === "fail") failed++;
      else pending++;
    }
  }
  return { files, passed, failed, pending, ms };
}
