#!/usr/bin/env node
// The workspace bin: committed JavaScript, so `npm ci` links `npx shopstream` before anything is
// compiled; the CLI itself is cli/dist (built by `npm run build`, `npm start` or `npm test`).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('shopstream: the CLI is not built yet; run `npm run build` first\n');
  process.exit(2);
}

// In the repository the CLI runs on the project's pinned Node (infra/versions.env), like everything
// else: `npx shopstream` from a shell whose PATH has the machine's Node hands over to it.
const versions = new URL('../../infra/versions.env', import.meta.url);
const nodeSh = new URL('../../infra/lib/node.sh', import.meta.url);
const pinned = existsSync(versions)
  ? /^NODE_VERSION=(\S+)$/m.exec(readFileSync(versions, 'utf8'))?.[1]
  : undefined;
if (pinned && process.version !== `v${pinned}` && existsSync(nodeSh)) {
  const args = [fileURLToPath(nodeSh), 'node', fileURLToPath(main), ...process.argv.slice(2)];
  const child = spawn('bash', args, { stdio: 'inherit' });
  // Ctrl-C reaches the whole process group, the child included: this one only waits for it. A
  // TERM sent to this process alone is passed on.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 1)));
} else {
  await import(main.href);
}
