/** The ProductPipeline resource (DESIGN §5), as the operator reads and writes it. */
export interface TopicSpec {
  name: string;
  partitions: number;
  replicas?: number;
  config?: Record<string, string>;
  deletionPolicy?: 'Retain' | 'Delete';
}

export interface ProductPipelineSpec {
  kafka: {
    clusterRef?: { name: string; namespace?: string };
    bootstrapServers: string;
    topicManagement?: 'Strimzi' | 'Direct';
  };
  topics: TopicSpec[];
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

export interface TopicStatus {
  name: string;
  ready: boolean;
  partitions: number;
  topicId?: string;
}

export interface ProductPipelineStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  topics?: TopicStatus[];
}

export interface ProductPipeline {
  apiVersion: string;
  kind: 'ProductPipeline';
  metadata: {
    name: string;
    namespace: string;
    generation?: number;
    uid?: string;
    annotations?: Record<string, string>;
    deletionTimestamp?: Date;
    finalizers?: string[];
  };
  spec: ProductPipelineSpec;
  status?: ProductPipelineStatus;
}
