import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { infraEnv } from './infra.js';
const run = promisify(execFile);
/** Kafka's own command-line tools, run from the broker's classpath: an independent check of what we built. */
export const KafkaTool = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  consumerGroups: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  getOffsets: 'org.apache.kafka.tools.GetOffsetShell',
};
/** Runs a Kafka CLI class against the local broker and returns its stdout; rejects with stderr on failure. */
export async function runKafkaTool(mainClass, args) {
  const env = infraEnv();
  const { stdout } = await run(
    'java',
    [
      '-Xmx256m',
      `-Dlog4j2.configurationFile=${env.kafkaLog4jConfig}`,
      '-cp',
      env.kafkaClasspath,
      mainClass,
      ...args,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}
//# sourceMappingURL=kafka-tools.js.map
