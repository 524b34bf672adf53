import { ApisApi, CustomObjectsApi, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { TopicPort } from '../controllers/topic-controller.js';
import type { ProductPipeline, TopicSpec, TopicStatus } from '../controllers/pipeline-types.js';
import { invalidSpec } from '../controllers/errors.js';

export const FIELD_MANAGER = 'shopstream-operator';
const STRIMZI_GROUP = 'kafka.strimzi.io';
/**
 * Which pipeline a KafkaTopic belongs to. A label, so the finalizer can find them by selector; the
 * uid, because a label value holds 63 characters (namespace and name together can hold 316) and a
 * pipeline recreated under the same name is another owner. The readable name is an annotation.
 */
export const PIPELINE_UID_LABEL = 'shopstream.io/pipeline-uid';
export const PIPELINE_ANNOTATION = 'shopstream.io/pipeline';
const MANAGED_BY = 'app.kubernetes.io/managed-by';

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
 * manager `shopstream-operator`, labelled `strimzi.io/cluster` and with the pipeline's uid; their
 * Ready condition is mirrored back. Never an ownerReference to the pipeline: the garbage collector
 * would delete a `Retain` KafkaTopic with the pipeline, and Strimzi the Kafka topic with it
 * (DESIGN.md §5). The pipeline's finalizer deletes the `Delete` ones instead. RBAC: kafkatopics
 * (kafka.strimzi.io) create, patch, delete, list (server-side apply that creates is also checked
 * for create; the finalizer lists by label); discovery (/apis, /apis/kafka.strimzi.io/*) get.
 */
export class StrimziTopics implements TopicPort {
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;

  /**
   * `clients`: shared across reconciles, so that KubernetesObjectApi's resource discovery (one
   * request per apiVersion, cached in the instance) happens once per operator, not per reconcile.
   */
  constructor(
    kubeConfig: KubeConfig,
    private readonly pipeline: ProductPipeline,
    private readonly apiVersion: string,
    clients?: { objects: KubernetesObjectApi; custom: CustomObjectsApi },
  ) {
    this.objects = clients?.objects ?? KubernetesObjectApi.makeApiClient(kubeConfig);
    this.custom = clients?.custom ?? kubeConfig.makeApiClient(CustomObjectsApi);
  }

  private get namespace(): string {
    return this.pipeline.spec.kafka.clusterRef?.namespace ?? this.pipeline.metadata.namespace;
  }

  /** The KafkaTopic this pipeline wants for `topic`: pure, deterministic (the same object every time). */
  desiredKafkaTopic(topic: TopicSpec): KafkaTopic {
    const { metadata, spec } = this.pipeline;
    return {
      apiVersion: `${STRIMZI_GROUP}/${this.apiVersion}`,
      kind: 'KafkaTopic',
      metadata: {
        name: kafkaTopicObjectName(topic.name),
        namespace: this.namespace,
        labels: {
          'strimzi.io/cluster': spec.kafka.clusterRef?.name ?? '',
          [MANAGED_BY]: FIELD_MANAGER,
          ...(metadata.uid ? { [PIPELINE_UID_LABEL]: metadata.uid } : {}),
        },
        annotations: { [PIPELINE_ANNOTATION]: `${metadata.namespace}/${metadata.name}` },
        // No ownerReferences. Left out of the applied object, an ownerReference an earlier version
        // applied is removed by the API server, since this field manager owns it.
      },
      spec: {
        topicName: topic.name,
        partitions: topic.partitions,
        // Left out when unset: the Strimzi topic operator then uses the cluster's default.
        ...(topic.replicas !== undefined ? { replicas: topic.replicas } : {}),
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

  /** Deletes the KafkaTopic for `name` only if it is this pipeline's (by uid), whatever holds its name. */
  async deleteTopic(name: string): Promise<void> {
    for (const kt of await this.owned()) {
      if (kt.spec?.topicName !== name) continue;
      await this.objects
        .delete(kt, undefined, undefined, undefined, undefined, undefined, {
          preconditions: { uid: kt.metadata!.uid! },
        })
        // 404: already gone; 409: the uid precondition failed, the name now holds another object.
        .catch((err: unknown) => {
          if (![404, 409].includes((err as { code?: number }).code ?? 0)) throw err;
        });
    }
  }

  /**
   * Cuts every ownerReference from this pipeline's KafkaTopics to the pipeline, including topics
   * since removed from the spec: KafkaTopics applied before ownerReferences were dropped still carry
   * one until their next apply, and the pipeline may be deleted first. Runs in the finalizer, so the
   * pipeline (the owner) still exists and the background garbage collector has not acted yet.
   */
  async release(): Promise<void> {
    const uid = this.pipeline.metadata.uid;
    for (const kt of await this.owned()) {
      const index = (kt.metadata?.ownerReferences ?? []).findIndex((o) => o.uid === uid);
      if (index < 0) continue;
      await this.custom
        .patchNamespacedCustomObject({
          group: STRIMZI_GROUP,
          version: this.apiVersion,
          namespace: this.namespace,
          plural: 'kafkatopics',
          name: kt.metadata!.name!,
          // The `test` op makes a concurrent change to the list fail (422, retried by the queue)
          // instead of removing another owner's entry at that index.
          body: [
            { op: 'test', path: `/metadata/ownerReferences/${index}/uid`, value: uid },
            { op: 'remove', path: `/metadata/ownerReferences/${index}` },
          ],
        })
        .catch((err: unknown) => {
          if ((err as { code?: number }).code !== 404) throw err;
        });
    }
  }

  /**
   * This pipeline's KafkaTopics: labelled with its uid, or (applied by a version before the uid
   * label) owned by it. Selected by the managed-by label, which both carry.
   */
  private async owned(): Promise<KafkaTopic[]> {
    const uid = this.pipeline.metadata.uid;
    if (!uid) return [];
    const list = await this.objects.list<KafkaTopic>(
      `${STRIMZI_GROUP}/${this.apiVersion}`,
      'KafkaTopic',
      this.namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      `${MANAGED_BY}=${FIELD_MANAGER}`,
    );
    return list.items.filter(
      (kt) =>
        kt.metadata?.labels?.[PIPELINE_UID_LABEL] === uid ||
        kt.metadata?.ownerReferences?.some((o) => o.uid === uid),
    );
  }

  async close(): Promise<void> {}
}
