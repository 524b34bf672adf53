/** Kafka's own command-line tools, run from the broker's classpath: an independent check of what we built. */
export declare const KafkaTool: {
  readonly topics: 'org.apache.kafka.tools.TopicCommand';
  readonly consumerGroups: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand';
  readonly getOffsets: 'org.apache.kafka.tools.GetOffsetShell';
};
/** Runs a Kafka CLI class against the local broker and returns its stdout; rejects with stderr on failure. */
export declare function runKafkaTool(mainClass: string, args: string[]): Promise<string>;
//# sourceMappingURL=kafka-tools.d.ts.map
