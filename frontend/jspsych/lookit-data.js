// The Lookit data client of jsPsych study pages. The page (served by shared/httpapi) creates the
// response for the visit and describes it in <script id="lookit-config" type="application/json">.
// Loaded after jsPsych, this script wraps initJsPsych so that a study's own code needs nothing
// Lookit-specific: every trial is saved as it ends (the whole list of trials, which the server
// refuses to let shrink), saves go out one at a time in order and are retried while retrying can
// help, and the end of the experiment marks the response completed before leaving for the exit URL.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("lookit-config").textContent);
  var responseURL = config.api + "responses/" + config.response + "/";
  var trials = [];
  var queue = Promise.resolve();
  var retries = 5;

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  // send PATCHes the response once, retrying network failures, 408, 429 and 5xx with backoff.
  async function send(attributes) {
    var body = JSON.stringify({ data: { type: "responses", id: config.response, attributes: attributes } });
    for (var attempt = 0; ; attempt++) {
      var res = null;
      try {
        res = await fetch(responseURL, {
          method: "PATCH",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/vnd.api+json",
            "Accept": "application/vnd.api+json",
            "X-CSRFToken": csrfToken(),
          },
          body: body,
        });
      } catch (e) {
        res = null; // offline or the connection dropped
      }
      if (res && res.ok) {
        return;
      }
      var status = res ? res.status : 0;
      var retryable = status === 0 || status === 408 || status === 429 || status >= 500;
      if (!retryable || attempt >= retries) {
        throw new Error("saving failed with status " + status);
      }
      await sleep(config.retryDelayMs === undefined ? 500 * Math.pow(2, attempt) : config.retryDelayMs);
    }
  }

  function showProblem() {
    if (document.getElementById("lookit-save-problem")) {
      return;
    }
    var div = document.createElement("div");
    div.id = "lookit-save-problem";
    div.setAttribute("role", "alert");
    div.style.cssText = "position:fixed;top:0;left:0;right:0;padding:1em;background:#fde2e1;color:#6b0f0c;" +
      "font:16px system-ui,sans-serif;text-align:center;z-index:10000";
    div.textContent = "We could not save your answers. Please check your internet connection; " +
      "if this message stays, contact the researchers.";
    document.body.appendChild(div);
  }

  // save queues a save of every trial so far (plus extra attributes) after the saves before it.
  function save(extra) {
    var attributes = Object.assign({ exp_data: trials.slice() }, extra || {});
    var run = queue.then(function () { return send(attributes); });
    queue = run.catch(showProblem);
    return run;
  }

  function exitURL() {
    return config.exitURL || "/";
  }

  var initJsPsych = window.initJsPsych;
  if (typeof initJsPsych !== "function") {
    throw new Error("lookit-data.js must be loaded after jsPsych");
  }
  window.initJsPsych = function (options) {
    options = options || {};
    var onDataUpdate = options.on_data_update;
    var onFinish = options.on_finish;
    return initJsPsych(Object.assign({}, options, {
      on_data_update: function (data) {
        trials.push(data);
        save().catch(function () {});
        if (onDataUpdate) {
          return onDataUpdate.apply(this, arguments);
        }
      },
      on_finish: function () {
        var self = this;
        var args = arguments;
        return Promise.resolve(onFinish ? onFinish.apply(self, args) : undefined)
          .then(function () { return save({ completed: true }); })
          .then(function () { window.location.assign(exitURL()); }, showProblem);
      },
    }));
  };

  // For a study's own code: the response, the trials saved so far, and an explicit save.
  window.lookit = {
    config: config,
    trials: trials,
    save: save,
  };
})();
