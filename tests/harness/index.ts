export { infraEnv, repoRoot } from './infra.js';
export type { InfraEnv } from './infra.js';
export { randomTopic, randomGroup, randomSchema, randomNamespace } from './names.js';
export { waitFor } from './wait-for.js';
export type { WaitOptions } from './wait-for.js';
export {
  runKafkaTool,
  KafkaTool,
  consumerGroupsDryRun,
  consumerGroupsCommitted,
  consumerGroupsDescribe,
} from './kafka-tools.js';
export { createTestDatabase } from './databases.js';
export type { TestDatabase } from './databases.js';
export { freePort, startService } from './processes.js';
export type { ServiceProcess } from './processes.js';
export { seedOutbox, insertEvents, productSnapshot } from './outbox-seed.js';
export type { SeedOptions } from './outbox-seed.js';
export { readTopic } from './topic-reader.js';
export { fixtureProducer } from './fixture-producer.js';
export type { ReadRecord } from './topic-reader.js';
export { startPrivateKafka } from './private-kafka.js';
export type { PrivateKafka, PrivateKafkaOptions } from './private-kafka.js';
export { startSecuredKafka, saslSslEnv, mtlsEnv, addKafkaUserAcls, oneLogin } from './secured-kafka.js';
export type { SecuredKafka, SecuredKafkaOptions, ScramUser, KafkaUserAcl } from './secured-kafka.js';
export { kubeConfig, installPipelineCrd, installFixtureCrd, serviceAccountKubeconfig } from './kube.js';
export { startPrivateKube } from './private-kube.js';
export type { PrivateKube } from './private-kube.js';
export { startPrivatePostgres, type PrivatePostgres } from './private-postgres.js';
export { seededRandom } from './seeded-random.js';
