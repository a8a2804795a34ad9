#!/usr/bin/env node
// Reads a JSON array of {"tex": "...", "display": true|false} on stdin and
// parses every formula with KaTeX in its strictest mode. Prints a JSON array
// of {"index": i, "error": "..."} for the formulas KaTeX rejects (an empty
// array when all pass). Exit status: 0 when all pass, 1 when any fails,
// 2 when the input itself is unusable.
"use strict";

const katex = require("katex");

function readStdin() {
  // File descriptor 0 is a pipe when called from tests/tooling.py.
  return require("fs").readFileSync(0, "utf8");
}

function main() {
  let items;
  try {
    items = JSON.parse(readStdin());
  } catch (err) {
    process.stderr.write(`check.cjs: stdin is not valid JSON: ${err.message}\n`);
    return 2;
  }
  if (!Array.isArray(items)) {
    process.stderr.write("check.cjs: expected a JSON array on stdin\n");
    return 2;
  }

  const failures = [];
  items.forEach((item, index) => {
    if (item === null || typeof item !== "object" || typeof item.tex !== "string") {
      failures.push({ index, error: "item is not an object with a string 'tex'" });
      return;
    }
    try {
      katex.renderToString(item.tex, {
        throwOnError: true,
        strict: "error",
        displayMode: Boolean(item.display),
      });
    } catch (err) {
      failures.push({ index, error: String(err && err.message ? err.message : err) });
    }
  });

  process.stdout.write(JSON.stringify(failures) + "\n");
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = main();
