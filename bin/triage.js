#!/usr/bin/env node
'use strict';
// Entry point of the `triage` command; the CLI itself is compiled TypeScript under dist/.
require('../dist/src/cli/main.js').runCli(process.argv).catch((error) => {
  process.stderr.write(`triage: ${error && error.message ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
