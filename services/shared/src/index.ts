export { commonConfigSchema, parseConfig, ConfigError } from './config.js';
export type { Env } from './config.js';
