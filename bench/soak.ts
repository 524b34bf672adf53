/**
 * `npm run soak -- [--minutes 10] [--rate 150] [--seed N]`: the whole pipeline under load and faults
 * (issue 14 item 7; tests/integration/soak/soak.ts says what runs and what is checked). Prints one
 * summary line; exits 1 when a check misses, 2 when the harness itself failed. The short profile
 * runs in `npm test` (tests/integration/soak/soak.int.test.ts).
 */
import { parseArgs } from 'node:util';
import { formatSummary, runSoak } from '../tests/integration/soak/soak.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '150' },
    seed: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!(minutes > 0) || !(rate > 0) || !Number.isInteger(seed)) {
  console.error('usage: npm run soak -- [--minutes 10] [--rate 150] [--seed N] [--quiet]');
  process.exit(2);
}
const log = (line: string): void => void process.stdout.write(`[${new Date().toISOString()}] ${line}\n`);
log(`soak: ${minutes} min at ${rate} writes/s, seed ${seed} (repeat with --seed ${seed})`);
const result = await runSoak({
  minutes,
  rate,
  seed,
  cleanUpOnSignal: true,
  ...(values.quiet ? {} : { log }),
});
for (const line of result.details) log(line);
console.log(formatSummary(result));
process.exit(result.harnessError ? 2 : result.ok ? 0 : 1);
