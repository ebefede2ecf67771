// openprod test's io seams: sim.http.request into a script's own http.serve (capabilities
// checked as live, no TCP port opened), handler failures as 500s the test can read,
// recv/accept/HTTP timeouts on the virtual clock, and fs.watch hearing sim.fs at once.
import { rmSync, writeFileSync, appendFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTests, textReport } from "../daemon/scripttest/index.ts";
import type { SuiteResult } from "../daemon/scripttest/index.ts";
import { copyExampleShow, writeShowFile } from "./helpers/example-show-copy.ts";
import { expectAllPass, failures } from "./helpers/suite-results.ts";

let show = "";

const SCRIPTS: Record<string, { source: string; caps: string[] }> = {
  // Echoes what it was asked; /boom fails the run, /slow answers after a minute, /ignore never.
  echo_server: {
    caps: ["net.http.server:8090"],
    source: `function main()
  local server = http.serve(8090, { response_timeout = args.response_timeout, max_body = args.max_body })
  while true do
    local req = server:accept()
    if req == nil then break end
    if req.path == "/boom" then error("the handler broke on " .. req.method .. " " .. req.path) end
    if req.path == "/slow" then core.await(core.sleep(60000)) end
    if req.path ~= "/ignore" then
      req:respond(201, json.encode({ method = req.method, path = req.path, who = req.params.who, body = req.body,
        agent = req.headers["user-agent"], remote = req.remote }), { ["X-Served-By"] = "echo", ["Content-Type"] = "application/json" })
    end
  end
end
`,
  },
  // Asks for a port its capability does not grant.
  wrong_port_server: { caps: ["net.http.server:8090"], source: "function main() http.serve(9090) end\n" },
  // Waits five minutes for the console, sleeps a second, waits half a second more.
  patient_listener: {
    caps: ["net.osc:8002", "ui.notify"],
    source: `function main()
  local s = osc.listen(8002)
  local first = s:recv(300000)
  log.info(first and ("got " .. first.path) or "no message in 5 min")
  core.await(core.sleep(1000))
  local second = s:recv(500)
  log.info(second and ("got " .. second.path) or "no message in 0.5 s")
end
`,
  },
  // Logs every change under imports/ it hears of.
  import_watcher: {
    caps: ["fs.watch:imports/**"],
    source: `function main()
  local w = fs.watch("imports")
  while true do
    local e = core.await(w:next())
    if e == nil then break end
    log.info(e.type .. " " .. e.path)
  end
end
`,
  },
  // Writes one file under imports/.
  import_writer: {
    caps: ["fs.write:imports/**"],
    source: 'function main() core.await(fs.write("imports/from_script.txt", "hello")) end\n',
  },
  // One request with a 5 s timeout.
  fetch_once: {
    caps: ["net.http.client"],
    source: `function main()
  local res = core.await(http.get(args.url, { timeout = 5000 }))
  log.info("answered " .. res.status)
end
`,
  },
};

beforeAll(() => {
  show = copyExampleShow("openprod-scripttest-http-");
  for (const [name, s] of Object.entries(SCRIPTS)) {
    writeFileSync(path.join(show, "workspace", "scripts", `${name}.lua`), s.source);
    appendFileSync(path.join(show, "openprod.toml"), `\n[script.${name}]\ncapabilities = ${JSON.stringify(s.caps)}\n`);
  }
});
afterAll(() => rmSync(show, { recursive: true, force: true }));

async function runOne(rel: string, source: string): Promise<SuiteResult> {
  return runTests({ showDir: show, paths: [writeShowFile(show, rel, source)] });
}


describe("sim.http.request", () => {
  it("delivers the request to the script's handler and returns its answer: status, headers, body", async () => {
    const s = await runOne(
      "more/http_request_test.lua",
      `it("echoes", function()
         local server = script.start("echo_server")
         local res = sim.http.request(8090, { method = "post", path = "/cue?who=sm", headers = { ["User-Agent"] = "tablet" }, body = "GO" })
         assert.equals(201, res.status)
         assert.equals("echo", res.headers["x-served-by"])
         assert.same({ method = "POST", path = "/cue", who = "sm", body = "GO", agent = "tablet", remote = "127.0.0.1" }, res.json)
         -- A path alone is a GET; json = {...} sends a JSON body.
         assert.equals("GET", sim.http.request(8090, "/").json.method)
         assert.equals('{"cue":5}', sim.http.request(8090, { method = "PUT", path = "/x", json = { cue = 5 } }).json.body)
         local out = server:stop()
         assert.equals("cancelled", out.status)
       end)
       it("applies the server's body limit as a real server does", function()
         script.start("echo_server", { max_body = 4 })
         local res = sim.http.request(8090, { method = "POST", path = "/", body = "too long" })
         assert.equals(413, res.status)
         assert.truthy(res.body:find("exceeds the limit of 4 bytes"))
       end)`,
    );
    expectAllPass(s);
  });

  it("a request to a port no script serves fails naming the port and the ports served; a bad request is refused", async () => {
    const s = await runOne(
      "more/http_unknown_port_test.lua",
      `it("nobody serves", function() sim.http.request(7777, "/status") end)
       it("another port is served", function()
         script.start("echo_server")
         sim.http.request(7777, "/status")
       end)
       it("bad path", function()
         script.start("echo_server")
         sim.http.request(8090, { path = "status" })
       end)`,
    );
    const f = failures(s);
    expect(f).toHaveLength(3);
    expect(f[0]).toContain("sim.http.request: no script serves HTTP port 7777 (serving: none;");
    expect(f[1]).toContain("no script serves HTTP port 7777 (serving: 8090;");
    expect(f[2]).toContain('path must start with "/"');
  });

  it("a handler that fails is a 500 carrying the error, and the test's output shows it", async () => {
    const s = await runOne(
      "more/http_handler_error_test.lua",
      `it("reads the 500", function()
         local server = script.start("echo_server")
         local res = sim.http.request(8090, { method = "DELETE", path = "/boom" })
         assert.equals(500, res.status)
         assert.truthy(res.body:find("the handler broke on DELETE /boom", 1, true), res.body)
         assert.equals("error", server:wait().status)
       end)
       it("expects a 200", function()
         script.start("echo_server")
         local res = sim.http.request(8090, "/boom")
         assert.equals(200, res.status, res.body)
       end)`,
    );
    expect(s.passed).toBe(1);
    const f = failures(s);
    expect(f).toHaveLength(1);
    const report = textReport(s);
    expect(report).toContain("500");
    expect(report).toContain("the script serving HTTP port 8090 failed");
    expect(report).toMatch(/failed: \w+: \S*echo_server\.lua:6: the handler broke on GET \/boom/);
  });

  it("the capability check of http.serve applies as live: a port not granted is refused and nothing serves it", async () => {
    const s = await runOne(
      "more/http_capability_test.lua",
      `it("refused", function()
         local run = script.start("wrong_port_server")
         local out = run:wait()
         assert.equals("error", out.status)
         assert.equals("PermissionDenied", out.error.type)
         assert.truthy(out.error.message:find("9090"), out.error.message)
         assert.error_matches(function() sim.http.request(9090, "/") end, "no script serves HTTP port 9090")
       end)`,
    );
    expectAllPass(s);
  });

  it("answer deadlines are virtual time: a slow handler gets 504 at response_timeout, so does a request taken and never answered", async () => {
    const s = await runOne(
      "more/http_deadline_test.lua",
      `it("slow handler", function()
         script.start("echo_server", { response_timeout = 30000 })
         local t0 = clock.now()
         local res = sim.http.request(8090, "/slow")
         assert.equals(504, res.status)
         assert.equals(t0 + 30000, clock.now())
       end)
       it("never answered", function()
         script.start("echo_server", { response_timeout = 45000 })
         local t0 = clock.now()
         local res = sim.http.request(8090, "/ignore")
         assert.equals(504, res.status)
         assert.equals(t0 + 45000, clock.now())
         -- The server still serves.
         assert.equals(201, sim.http.request(8090, "/again").status)
         assert.equals(t0 + 45000, clock.now())
       end)`,
    );
    expectAllPass(s);
  });
});

describe("timeouts on the virtual clock", () => {
  it("a five-minute recv timeout elapses at once while the test waits for the run, in order with its sleeps", async () => {
    const s = await runOne(
      "more/recv_timeout_test.lua",
      `it("script.run", function()
         local t0 = clock.now()
         local run = script.run("patient_listener")
         assert.equals("ok", run.status, run.error and run.error.message)
         -- (its first log line is the io module's "OSC listening on ...")
         assert.same({ "no message in 5 min", "no message in 0.5 s" }, { run.logs[2].message, run.logs[3].message })
         assert.equals(t0 + 300000 + 1000 + 500, clock.now())
       end)
       it("a started run's timeout fires when clock.advance reaches it; a message first cancels it", function()
         local t0 = clock.now()
         local h = script.start("patient_listener")
         assert.equals(1, clock.sleeping())
         clock.advance(299999)
         assert.equals(1, clock.sleeping())
         sim.osc.send(8002, "/hello", {})
         -- The five-minute timer is gone; the run sleeps its second now.
         assert.equals(1, clock.sleeping())
         clock.advance(1000)
         clock.advance(499)
         assert.equals(1, clock.sleeping())
         clock.advance(1)
         local out = h:wait()
         assert.same({ "got /hello", "no message in 0.5 s" }, { out.logs[2].message, out.logs[3].message })
         assert.equals(t0 + 299999 + 1500, clock.now())
       end)`,
    );
    expectAllPass(s);
  });

  it("an HTTP request's timeout is virtual time: a response slower than it is a Timeout at the timeout", async () => {
    const s = await runOne(
      "more/http_client_timeout_test.lua",
      `it("times out", function()
         sim.http.respond("http://console.local/*", { body = "7", delay = 60000 })
         local t0 = clock.now()
         local run = script.run("fetch_once", { url = "http://console.local/api/cue" })
         assert.equals("error", run.status)
         assert.equals("Timeout", run.error.type)
         assert.truthy(run.error.message:find("within 5000 ms", 1, true), run.error.message)
         assert.equals(t0 + 5000, clock.now())
       end)
       it("a response within it arrives", function()
         sim.http.respond("http://console.local/*", { body = "7", delay = 4999 })
         local run = script.run("fetch_once", { url = "http://console.local/api/cue" })
         assert.equals("answered 200", run.logs[1].message)
       end)`,
    );
    expectAllPass(s);
  });
});

describe("fs.watch in a test", () => {
  it("hears sim.fs.write, sim.fs.remove and scripts' own writes at once, in order, and only what it watches", async () => {
    const s = await runOne(
      "more/fs_watch_test.lua",
      `it("watches", function()
         local h = script.start("import_watcher")
         sim.fs.write("imports/cues.csv", "1,2")
         sim.fs.write("imports/cues.csv", "1,2,3")
         sim.fs.write("elsewhere.txt", "not watched")
         assert.equals("ok", script.run("import_writer", {}, { mode = "autoCommit" }).status)
         sim.fs.remove("imports/cues.csv")
         sim.fs.remove("imports/cues.csv")
         local out = h:stop()
         local lines = {}
         for _, l in ipairs(out.logs) do table.insert(lines, l.message) end
         assert.same({ "created imports/cues.csv", "modified imports/cues.csv", "created imports/from_script.txt", "deleted imports/cues.csv" }, lines)
         sim.fs.remove("imports/from_script.txt")
       end)`,
    );
    expectAllPass(s);
  });
});
