#!/usr/bin/env node
// The installed `cadence` command: runs the compiled CLI (npm run build writes dist/).
import '../dist/cli/main.js';
