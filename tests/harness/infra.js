import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const infraScript = join(repoRoot, 'infra', 'infra.sh');
let cached;
/**
 * The endpoints of the running infrastructure. Global setup puts them in the environment once;
 * outside jest (or when it did not run) the infra script is asked directly.
 */
export function infraEnv() {
  if (cached) return cached;
  const fromSetup = process.env.SHOPSTREAM_INFRA;
  const json = fromSetup ?? execFileSync('bash', [infraScript, 'env', '--json'], { encoding: 'utf8' });
  cached = JSON.parse(json);
  return cached;
}
//# sourceMappingURL=infra.js.map
