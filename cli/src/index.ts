export { CliError, emit, runAction, usageError } from './output.js';
export { Progress } from './progress.js';
export { loadCliConfig } from './context.js';
export type { CliConfig } from './context.js';
