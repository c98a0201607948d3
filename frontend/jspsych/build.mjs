// Writes dist/, what jsPsych study pages load from /static/jspsych/ (the dev server serves it;
// in production it is uploaded to the static bucket behind Cloud CDN):
//   jspsych.js     jsPsych and every plugin in package.json, their browser builds concatenated
//   jspsych.css    jsPsych's stylesheet
//   lookit-data.js our data client
//   LICENSES.txt   the licences of the bundled packages
// Source-map comments are dropped: they point at a third-party CDN.
import { readFileSync, writeFileSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));

// jsPsych first: the plugins use its globals.
const names = Object.keys(pkg.dependencies).sort((a, b) => (a === "jspsych" ? -1 : b === "jspsych" ? 1 : a.localeCompare(b)));
if (names[0] !== "jspsych") {
  throw new Error("package.json must depend on jspsych");
}

const scripts = [];
const licences = [];
for (const name of names) {
  const dir = join(here, "node_modules", name);
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (meta.version !== pkg.dependencies[name]) {
    throw new Error(`${name}: node_modules has ${meta.version}, package.json pins ${pkg.dependencies[name]}; run npm ci`);
  }
  const file = join(dir, "dist", "index.browser.min.js");
  const code = readFileSync(file, "utf8").replace(/^\/\/# sourceMappingURL=.*$/gm, "").trimEnd();
  scripts.push(`/* ${name}@${meta.version} (${meta.license}) */\n${code}\n`);
  const licenceFile = ["LICENSE", "LICENSE.md", "license"].map((f) => join(dir, f)).find(existsSync);
  licences.push(`${name}@${meta.version} (${meta.license})\n` + (licenceFile ? readFileSync(licenceFile, "utf8") : "") + "\n");
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, "jspsych.js"), scripts.join("\n"));
writeFileSync(join(dist, "jspsych.css"), readFileSync(join(here, "node_modules", "jspsych", "css", "jspsych.css")));
writeFileSync(join(dist, "lookit-data.js"), readFileSync(join(here, "lookit-data.js")));
writeFileSync(join(dist, "LICENSES.txt"), licences.join("\n"));
console.log(`jspsych: dist/ holds ${names.length} packages (jspsych@${pkg.dependencies.jspsych}) and the data client`);
