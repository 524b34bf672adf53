import { ConfigError, commonConfigSchema, parseConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { migrate } from './migrate.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL; exits non-zero with the reason on failure. */
async function main(): Promise<void> {
  const config = parseConfig(commonConfigSchema.pick({ DATABASE_URL: true, LOG_LEVEL: true }), process.env);
  const logger = createLogger({ name: 'migrate', level: config.LOG_LEVEL });
  const applied = await migrate(config.DATABASE_URL, logger);
  logger.info(
    { applied, count: applied.length },
    applied.length ? 'migrations applied' : 'schema up to date',
  );
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : `migration failed: ${(err as Error).message}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
