#!/usr/bin/env node
// The workspace bin: committed JavaScript, so `npm ci` links `npx shopstream` before anything is
// compiled; the CLI itself is cli/dist (built by `npm run build`, `npm start` or `npm test`).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('shopstream: the CLI is not built yet; run `npm run build` first\n');
  process.exit(2);
}
await import(main.href);
