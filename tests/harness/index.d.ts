export { infraEnv, repoRoot } from './infra.js';
export type { InfraEnv } from './infra.js';
export { randomTopic, randomGroup, randomSchema, randomNamespace } from './names.js';
export { waitFor } from './wait-for.js';
export type { WaitOptions } from './wait-for.js';
export { runKafkaTool, KafkaTool } from './kafka-tools.js';
export { createTestDatabase } from './databases.js';
export type { TestDatabase } from './databases.js';
//# sourceMappingURL=index.d.ts.map
