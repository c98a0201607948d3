// Tests of the data client (node --test): it runs in a VM context with a stand-in for jsPsych that
// calls the callbacks jsPsych calls, and a fetch that records the saves and answers as told.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";

const source = readFileSync(new URL("./lookit-data.js", import.meta.url), "utf8");
const config = { response: "r-1", study: "s-1", child: "c-1", api: "/api/v2/", exitURL: "https://lab.example.org/done?child=abc&response=r-1", retryDelayMs: 1 };

// page loads the client into a fresh page; answers[i] is the status of the i-th request (200 when
// absent; "network" for a dropped connection).
function page(answers = []) {
  const requests = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const body = { children: [], appendChild(el) { this.children.push(el); } };
  const window = {
    initJsPsych(options) {
      return {
        options,
        // What jsPsych does at the end of each trial and of the experiment.
        async trial(data) { return options.on_data_update(data); },
        async finish() { return options.on_finish(); },
      };
    },
    location: { assigned: null, assign(url) { this.assigned = url; } },
  };
  const context = {
    window,
    document: {
      cookie: "sessionid=x; csrftoken=tok%2Den",
      body,
      getElementById(id) { return id === "lookit-config" ? { textContent: JSON.stringify(config) } : body.children.find((c) => c.id === id); },
      createElement() { return { style: {}, setAttribute() {} }; },
    },
    fetch: async (url, init) => {
      const i = requests.length;
      requests.push({ url, init, body: JSON.parse(init.body) });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      const a = answers[i] ?? 200;
      if (a === "network") throw new TypeError("network error");
      return { ok: a >= 200 && a < 300, status: a };
    },
    setTimeout,
    Promise,
    JSON,
    Object,
    Math,
    Error,
    TypeError,
    decodeURIComponent,
  };
  context.window.document = context.document;
  vm.createContext(context);
  // Browser scripts see window's members as globals.
  vm.runInContext("var initJsPsych = window.initJsPsych;", context);
  vm.runInContext(source, context);
  return { window, requests, body, maxInFlight: () => maxInFlight, idle: () => inFlight === 0 };
}

// settle waits until the client has been quiet for 30 ms: nothing in flight, no new request
// (retries wait 1 ms here). It gives up after 5 s, and the assertions then say what is missing.
async function settle(p) {
  let seen = -1;
  for (let waited = 0; waited < 5000; waited += 30) {
    await new Promise((r) => setTimeout(r, 30));
    if (p.idle() && p.requests.length === seen) {
      return;
    }
    seen = p.requests.length;
  }
}

test("every trial saves the whole list of trials, in order, one save at a time", async () => {
  const p = page();
  const jsPsych = p.window.initJsPsych({});
  for (let i = 0; i < 5; i++) {
    jsPsych.trial({ trial_index: i, trial_type: "html-keyboard-response", rt: 100 + i });
  }
  await settle(p);
  assert.equal(p.requests.length, 5);
  p.requests.forEach((r, i) => {
    assert.equal(r.url, "/api/v2/responses/r-1/");
    assert.equal(r.init.method, "PATCH");
    assert.equal(r.init.headers["X-CSRFToken"], "tok-en");
    assert.equal(r.init.headers["Content-Type"], "application/vnd.api+json");
    assert.equal(r.body.data.id, "r-1");
    assert.equal(r.body.data.type, "responses");
    assert.equal(r.body.data.attributes.exp_data.length, i + 1);
    assert.equal(r.body.data.attributes.exp_data[i].trial_index, i);
  });
  assert.equal(p.maxInFlight(), 1, "saves overlapped: a later save could land before an earlier one");
});

test("the end marks the response completed, then leaves for the exit URL", async () => {
  const p = page();
  let studyFinished = false;
  const jsPsych = p.window.initJsPsych({ on_finish() { studyFinished = true; } });
  jsPsych.trial({ trial_index: 0, trial_type: "html-button-response" });
  await jsPsych.finish();
  await settle(p);
  assert.ok(studyFinished, "the study's own on_finish was not called");
  const last = p.requests.at(-1).body.data.attributes;
  assert.equal(last.completed, true);
  assert.equal(last.exp_data.length, 1);
  assert.equal(p.window.location.assigned, config.exitURL);
});

test("the study's own on_data_update still runs", async () => {
  const p = page();
  const seen = [];
  const jsPsych = p.window.initJsPsych({ on_data_update(d) { seen.push(d.trial_index); } });
  jsPsych.trial({ trial_index: 0, trial_type: "x" });
  jsPsych.trial({ trial_index: 1, trial_type: "x" });
  await settle(p);
  assert.deepEqual(seen, [0, 1]);
});

test("a dropped connection and server errors are retried; the data arrives", async () => {
  const p = page(["network", 503, 429, 200]);
  const jsPsych = p.window.initJsPsych({});
  jsPsych.trial({ trial_index: 0, trial_type: "x" });
  await settle(p);
  assert.equal(p.requests.length, 4);
  assert.equal(p.body.children.length, 0, "a problem was shown although the save succeeded");
});

test("a refused save is not retried, is shown, and does not stop later saves", async () => {
  const p = page([400]);
  const jsPsych = p.window.initJsPsych({});
  jsPsych.trial({ trial_index: 0, trial_type: "x" });
  jsPsych.trial({ trial_index: 1, trial_type: "x" });
  await settle(p);
  assert.equal(p.requests.length, 2);
  assert.equal(p.requests[1].body.data.attributes.exp_data.length, 2);
  assert.equal(p.body.children.length, 1, "the family was not told");
});

test("when saving fails at the end, the family stays on the page and is told", async () => {
  const p = page([200, 500, 500, 500, 500, 500, 500]);
  const jsPsych = p.window.initJsPsych({});
  jsPsych.trial({ trial_index: 0, trial_type: "x" });
  await jsPsych.finish();
  await settle(p);
  assert.equal(p.window.location.assigned, null);
  assert.equal(p.body.children.length, 1);
});
