import { ApisApi, CustomObjectsApi, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { TopicPort } from '../controllers/topic-controller.js';
import type { ProductPipeline, TopicSpec, TopicStatus } from '../controllers/pipeline-types.js';
import { invalidSpec } from '../controllers/errors.js';
import { GROUP, VERSION } from './pipeline-client.js';

export const FIELD_MANAGER = 'shopstream-operator';
const STRIMZI_GROUP = 'kafka.strimzi.io';

interface KafkaTopic extends KubernetesObject {
  spec?: { topicName?: string; partitions?: number; replicas?: number; config?: Record<string, string> };
  status?: {
    conditions?: { type: string; status: string; message?: string }[];
    topicId?: string;
    observedGeneration?: number;
  };
}

/**
 * The KafkaTopic API version the cluster serves: v1 when Strimzi offers KafkaTopic there, else
 * v1beta2 (discovery). The kind is checked per version, not just the group version: a cluster can
 * serve kafka.strimzi.io/v1 for some kinds and not (yet) for KafkaTopic.
 */
export async function strimziTopicVersion(kubeConfig: KubeConfig): Promise<string> {
  const groups = await kubeConfig.makeApiClient(ApisApi).getAPIVersions();
  const strimzi = groups.groups.find((g) => g.name === STRIMZI_GROUP);
  const served = strimzi?.versions.map((v) => v.version) ?? [];
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  for (const version of ['v1', 'v1beta2'].filter((v) => served.includes(v))) {
    const resources = await custom.getAPIResources({ group: STRIMZI_GROUP, version });
    if (resources.resources.some((r) => r.kind === 'KafkaTopic')) return version;
  }
  throw invalidSpec(
    `topicManagement Strimzi needs the ${STRIMZI_GROUP} KafkaTopic API (v1 or v1beta2); the cluster serves none`,
  );
}

/** A Kubernetes object name for a Kafka topic name (lower-case DNS subdomain); the real name goes in spec.topicName. */
export const kafkaTopicObjectName = (topic: string): string =>
  topic
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^[.-]+|[.-]+$/g, '')
    .slice(0, 253) || 'topic';

/**
 * Topics as Strimzi KafkaTopic resources (topicManagement: Strimzi): server-side apply with field
 * manager `shopstream-operator`, labelled `strimzi.io/cluster`, owned by the pipeline when in the
 * same namespace; their Ready condition is mirrored back. RBAC: kafkatopics (kafka.strimzi.io)
 * create, patch, delete (server-side apply that creates is also checked for create); discovery
 * (/apis, /apis/kafka.strimzi.io/*) get.
 */
export class StrimziTopics implements TopicPort {
  private readonly objects: KubernetesObjectApi;

  constructor(
    kubeConfig: KubeConfig,
    private readonly pipeline: ProductPipeline,
    private readonly apiVersion: string,
  ) {
    this.objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  }

  private get namespace(): string {
    return this.pipeline.spec.kafka.clusterRef?.namespace ?? this.pipeline.metadata.namespace;
  }

  /** The KafkaTopic this pipeline wants for `topic`: pure, deterministic (the same object every time). */
  desiredKafkaTopic(topic: TopicSpec): KafkaTopic {
    const { metadata, spec } = this.pipeline;
    const sameNamespace = this.namespace === metadata.namespace;
    return {
      apiVersion: `${STRIMZI_GROUP}/${this.apiVersion}`,
      kind: 'KafkaTopic',
      metadata: {
        name: kafkaTopicObjectName(topic.name),
        namespace: this.namespace,
        labels: {
          'strimzi.io/cluster': spec.kafka.clusterRef?.name ?? '',
          'app.kubernetes.io/managed-by': FIELD_MANAGER,
          'shopstream.io/pipeline': `${metadata.namespace}.${metadata.name}`,
        },
        ...(sameNamespace && metadata.uid
          ? {
              ownerReferences: [
                {
                  apiVersion: `${GROUP}/${VERSION}`,
                  kind: 'ProductPipeline',
                  name: metadata.name,
                  uid: metadata.uid,
                  controller: true,
                  blockOwnerDeletion: true,
                },
              ],
            }
          : {}),
      },
      spec: {
        topicName: topic.name,
        partitions: topic.partitions,
        replicas: topic.replicas ?? 1,
        config: topic.config ?? {},
      },
    };
  }

  async ensureTopic(topic: TopicSpec): Promise<TopicStatus> {
    if (!this.pipeline.spec.kafka.clusterRef?.name)
      throw invalidSpec('topicManagement Strimzi needs kafka.clusterRef.name');
    const applied = (await this.objects.patch(
      this.desiredKafkaTopic(topic),
      undefined,
      undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    )) as KafkaTopic;
    const ready = applied.status?.conditions?.find((c) => c.type === 'Ready');
    return {
      name: topic.name,
      ready: ready?.status === 'True' && applied.status?.observedGeneration === applied.metadata?.generation,
      partitions: topic.partitions,
      ...(applied.status?.topicId ? { topicId: applied.status.topicId } : {}),
    };
  }

  async deleteTopic(name: string): Promise<void> {
    await this.objects
      .delete({
        apiVersion: `${STRIMZI_GROUP}/${this.apiVersion}`,
        kind: 'KafkaTopic',
        metadata: { name: kafkaTopicObjectName(name), namespace: this.namespace },
      })
      .catch((err: unknown) => {
        if ((err as { code?: number }).code !== 404) throw err;
      });
  }

  async close(): Promise<void> {}
}
