#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import * as demo from './commands/demo.js';
import * as diagnose from './commands/diagnose.js';
import * as dlq from './commands/dlq.js';
import * as lag from './commands/lag.js';
import * as outbox from './commands/outbox.js';
import * as resetOffsets from './commands/reset-offsets.js';
import * as status from './commands/status.js';
import * as watch from './commands/watch.js';

/**
 * `shopstream`: one entry, one file per command (each exports `register(program)`), every command
 * with `--json`; exit 0 on success, 1 on a failure, 2 on bad usage or configuration.
 */
const program = new Command('shopstream')
  .description('Operate the shopstream pipeline: outbox, relays, consumer groups, offsets.')
  .showHelpAfterError()
  .exitOverride();
for (const command of [status, lag, diagnose, outbox, dlq, resetOffsets, watch, demo])
  command.register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commander has printed its message (unknown option, missing argument); help and version exit 0.
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else throw err;
}
