/**
 * The hand-written part of charts/workload/values.schema.json: every value no zod schema types
 * (image, resources, probes, Secrets, Kafka authentication, …), with descriptions, and the
 * descriptions of the `config` keys and of the values that are one env var each, whose types,
 * enums, bounds and defaults `workload-values-schema.ts` takes from the services' zod schemas.
 * Edit here, then `npm run charts:schema`.
 */

/** A JSON Schema (draft-07) object, as Helm validates values with it. */
export type JsonSchema = { [keyword: string]: unknown };

export const COMPONENTS = ['api', 'relay', 'consumer'] as const;
export type Component = (typeof COMPONENTS)[number];

/** A chart value that is exactly one env var of the process (a 1:1 mapping), typed by zod. */
export interface EnvValue {
  /** Where the value sits, e.g. ['service', 'port']. */
  path: string[];
  /** The env var it renders, a key of the component's zod schema. */
  env: string;
  /** The chart writes '' for "unset" where the env var is optional (zod knows no empty string). */
  emptyMeansUnset?: boolean;
}

/** Typed by the shared schema (services/shared/src/config.ts), the same for every component. */
export const commonEnvValues: EnvValue[] = [
  { path: ['logLevel'], env: 'LOG_LEVEL' },
  { path: ['kafka', 'brokers'], env: 'KAFKA_BROKERS' },
];

/** Typed by each component's own schema (services/<component>/src/config.ts). */
export const componentEnvValues: Record<Component, EnvValue[]> = {
  api: [
    { path: ['service', 'port'], env: 'PORT' },
    { path: ['auth', 'jwksUrl'], env: 'JWT_JWKS_URL', emptyMeansUnset: true },
    { path: ['auth', 'issuer'], env: 'JWT_ISSUER', emptyMeansUnset: true },
    { path: ['auth', 'audience'], env: 'JWT_AUDIENCE', emptyMeansUnset: true },
  ],
  relay: [{ path: ['service', 'port'], env: 'METRICS_PORT' }],
  consumer: [{ path: ['service', 'port'], env: 'METRICS_PORT' }],
};

/** What kafka.brokers, kafka.tls and kafka.authentication render. */
const kafkaEnv = [
  'KAFKA_BROKERS',
  'KAFKA_SSL',
  'KAFKA_SSL_CA_FILE',
  'KAFKA_SSL_CERT_FILE',
  'KAFKA_SSL_KEY_FILE',
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
];

/**
 * Env vars that are not `config` keys: the chart renders them from values of their own
 * (connection, secrets, the port; the env values above among them), or leaves them to the process.
 */
export const notConfigKeys: Record<Component, string[]> = {
  // HOST and METRICS_HOST stay 0.0.0.0: the Service and the probes reach the pod's IP.
  api: [
    'DATABASE_URL',
    'LOG_LEVEL',
    'PORT',
    'HOST',
    'JWT_SECRET',
    'JWT_JWKS_URL',
    'JWT_ISSUER',
    'JWT_AUDIENCE',
    'ADMIN_TOKEN',
    ...kafkaEnv,
  ],
  // RELAY_ID stays unset: each pod then names itself after its hostname, unique per pod.
  relay: ['DATABASE_URL', 'LOG_LEVEL', 'METRICS_PORT', 'METRICS_HOST', 'RELAY_ID', ...kafkaEnv],
  consumer: ['DATABASE_URL', 'LOG_LEVEL', 'METRICS_PORT', 'METRICS_HOST', ...kafkaEnv],
};

/** What a `config` key means; `examples` for the keys zod gives no default (the chart tests set them). */
export interface ConfigKeyDoc {
  description: string;
  examples?: unknown[];
}

const shardCount = (component: string): ConfigKeyDoc => ({
  description: `Outbox shards. Unset: the database's (table relay_config, recorded by the first api or relay). Set: must equal it, or the ${component} refuses to start.`,
  examples: [64],
});
const kafkaClientId: ConfigKeyDoc = { description: 'kafkajs client id.' };

export const configDocs: Record<Component, Record<string, ConfigKeyDoc>> = {
  api: {
    JWKS_MAX_AGE_MS: { description: 'JWKS keys are fetched again when older than this.' },
    JWKS_MIN_REFRESH_INTERVAL_MS: {
      description: 'At most one JWKS fetch per interval for tokens naming an unknown key id.',
    },
    JWKS_FETCH_TIMEOUT_MS: { description: 'Deadline of one JWKS fetch; a failed fetch answers 503.' },
    SHARD_COUNT: shardCount('api'),
    PRODUCT_EVENTS_TOPIC: { description: 'Topic named in the outbox rows the api writes.' },
    DB_POOL_MAX: { description: 'PostgreSQL connections per pod.' },
    DB_CONNECT_TIMEOUT_MS: { description: 'Giving up on opening a database connection.' },
    DB_ACQUIRE_TIMEOUT_MS: { description: 'Waiting for a free pooled connection before answering 503.' },
    DB_STATEMENT_TIMEOUT_MS: {
      description: 'Server-side cap on one statement (the search route has its own, shorter one).',
    },
    SEARCH_STATEMENT_TIMEOUT_MS: { description: 'Server-side cap on one search statement.' },
    SEARCH_CANDIDATE_LIMIT: {
      description: 'At most this many matching rows are ranked per search, however many match.',
    },
    SHUTDOWN_TIMEOUT_MS: {
      description: 'How long SIGTERM waits for in-flight requests; keep under terminationGracePeriodSeconds.',
    },
    CONSUMER_GROUP_ID: {
      description: "Consumer group whose lag the admin page shows; the consumer's CONSUMER_GROUP_ID.",
    },
    CONSUMER_TOPIC: { description: "Topic whose lag the admin page shows; the consumer's CONSUMER_TOPIC." },
    CONSUMER_START_FROM: {
      description:
        "Where the consumer starts without a commit (the consumer's CONSUMER_START_FROM), so the lag of a group without commits is counted from there.",
    },
    CONSUMER_DLQ_TOPIC: {
      description:
        "Dead-letter topic the admin page's DLQ view reads and replays from; unset: <CONSUMER_TOPIC>.dlq (the consumer's CONSUMER_DLQ_TOPIC).",
      examples: ['product.events.dlq'],
    },
  },
  relay: {
    SHARD_COUNT: shardCount('relay'),
    RELAY_BATCH_SIZE: { description: 'Outbox rows claimed and published per batch.' },
    RELAY_BATCH_MAX_BYTES: {
      description: 'A batch ends where its payloads would pass this many bytes (one record at least).',
    },
    RELAY_COMPRESSION: {
      description: 'Codec of the record batches sent to Kafka: none, or gzip (costs relay CPU, saves bytes).',
    },
    RELAY_POLL_INTERVAL_MS: { description: 'Polling interval, the fallback to LISTEN/NOTIFY wake-ups.' },
    RELAY_LEASE_MS: {
      description:
        'Shard lease; a relay silent this long loses its shards. More than twice RELAY_HEARTBEAT_MS.',
    },
    RELAY_HEARTBEAT_MS: { description: 'Heartbeat interval; under half of RELAY_LEASE_MS.' },
    RELAY_MAX_ATTEMPTS: { description: 'Publish attempts before an event is DEAD.' },
    RELAY_BACKOFF_BASE_MS: { description: 'First retry delay (exponential backoff with jitter).' },
    RELAY_BACKOFF_MAX_MS: { description: 'Longest retry delay.' },
    RELAY_RETENTION_HOURS: {
      description: 'Hours published events are kept before their partition is dropped.',
    },
    RELAY_MAINTENANCE_INTERVAL_MS: {
      description: 'Interval of outbox maintenance: partitions (create ahead, drop expired) and purges.',
    },
    RELAY_PARTITION_HOURS_AHEAD: {
      description: 'Hourly partitions of published events exist this far ahead of the database clock.',
    },
    RELAY_MAINTENANCE_LOCK_TIMEOUT_MS: {
      description:
        'lock_timeout of each maintenance statement: the longest an API write can queue behind one.',
    },
    RELAY_IDEMPOTENCY_TTL_HOURS: {
      description: 'Idempotency keys are purged after this many hours (the API replays POSTs for 24 h).',
    },
    RELAY_DEAD_RETENTION_HOURS: {
      description:
        'DEAD and SKIPPED outbox rows are purged after this many hours, unless a later event of their product waits behind them.',
    },
    KAFKA_REQUEST_TIMEOUT_MS: {
      description:
        'Deadline of one whole send to Kafka. KAFKA_REQUEST_TIMEOUT_MS + RELAY_FENCE_MARGIN_MS + RELAY_HEARTBEAT_MS must be under RELAY_LEASE_MS: a send starts only if it can finish before the lease ends.',
    },
    RELAY_FENCE_MARGIN_MS: {
      description: "Lease kept in hand beyond a send's deadline before a send may start (self-fencing).",
    },
    RELAY_MAX_RECORD_BYTES: {
      description:
        "Records larger than this are the record's fault, refused before sending (keep at or below the topic's max.message.bytes).",
    },
    RELAY_CIRCUIT_BASE_MS: {
      description: 'First wait between Kafka probes while broker-level failures keep the circuit open.',
    },
    RELAY_CIRCUIT_MAX_MS: {
      description:
        'Longest wait between Kafka probes while the circuit is open (exponential with jitter in between).',
    },
    KAFKA_CLIENT_ID: kafkaClientId,
  },
  consumer: {
    CONSUMER_GROUP_ID: { description: "Kafka consumer group (the ProductPipeline's consumers[].groupId)." },
    CONSUMER_TOPIC: { description: 'Topic the group reads.' },
    CONSUMER_START_FROM: {
      description: 'Where a group without committed offsets starts; a group with commits resumes from them.',
    },
    CONSUMER_DLQ_TOPIC: {
      description: 'Dead-letter topic; unset: <CONSUMER_TOPIC>.dlq.',
      examples: ['product.events.dlq'],
    },
    CONSUMER_TOPIC_WAIT_INTERVAL_MS: {
      description:
        'While the topic or the dead-letter topic does not exist (or Kafka does not answer), the consumer waits, not ready, and looks again this often.',
    },
    CONSUMER_RETRY_BASE_MS: { description: 'First delay when a retriable failure is retried.' },
    CONSUMER_RETRY_MAX_MS: { description: 'Longest retry delay.' },
    CONSUMER_BLOCKED_LOG_INTERVAL_MS: {
      description:
        'While an environmental error blocks one event, how often "consumer still blocked" is logged with its cause.',
    },
    CONSUMER_PARTITIONS_CONCURRENTLY: {
      description:
        'Partitions one consumer process applies at once (kafkajs partitionsConsumedConcurrently); each holds a database connection while it applies.',
    },
    CONSUMER_BATCH_MAX: {
      description:
        'Records of one partition applied in one inbox transaction with set-based statements; 1 applies each event in a transaction of its own.',
    },
    CONSUMER_LAG_INTERVAL_MS: { description: 'Interval of the lag metrics (shopstream_consumer_lag_*).' },
    CONSUMER_INBOX_RETENTION_HOURS: {
      description:
        "Inbox (processed_event) rows of the group older than this are purged. Keep it longer than any replay the topic allows (its retention.ms; 7 days by default): an event replayed from further back is no longer recognised as a duplicate by the inbox, only judged by the read model's version guard. Start-up logs a warning when it is shorter than the topic's retention.ms.",
    },
    CONSUMER_INBOX_PURGE_INTERVAL_MS: {
      description:
        'Pause between inbox purge runs; each run deletes batches until fewer than a batch remain.',
    },
    CONSUMER_INBOX_PURGE_BATCH: {
      description:
        'Inbox rows per purge statement, each in its own short transaction (lock and statement timeouts, skipping locked rows).',
    },
    KAFKA_CLIENT_ID: kafkaClientId,
  },
};

// --- Building blocks the base schema repeats ------------------------------------------------------

const object = (description: string, properties: JsonSchema, required: string[] = []): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: false,
  properties,
  ...(required.length ? { required } : {}),
});
const string = (description: string, more: JsonSchema = {}): JsonSchema => ({
  type: 'string',
  description,
  ...more,
});
const integer = (description: string, minimum: number): JsonSchema => ({
  type: 'integer',
  description,
  minimum,
});
const boolean = (description: string): JsonSchema => ({ type: 'boolean', description });
const stringMap = (description: string): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string' },
});

const pullSecret: JsonSchema = {
  oneOf: [
    string('Secret name.', { minLength: 1 }),
    object('A pull Secret.', { name: string('Secret name.', { minLength: 1 }) }, ['name']),
  ],
};

const quantities = (what: string): JsonSchema => ({
  type: 'object',
  description: `Resource ${what} by resource name (cpu, memory, ephemeral-storage).`,
  additionalProperties: {
    type: ['string', 'number'],
    description: 'A Kubernetes quantity, e.g. 100m or 256Mi.',
  },
});
const resources = (description: string): JsonSchema =>
  object(description, { requests: quantities('requests'), limits: quantities('limits') });

const seccompProfile = object(
  'Seccomp profile (RuntimeDefault by default).',
  {
    type: string('Profile kind.', { enum: ['RuntimeDefault', 'Localhost', 'Unconfined'] }),
    localhostProfile: string('Profile file on the node, for type Localhost.'),
  },
  ['type'],
);
const seLinuxOptions = stringMap('SELinux context (Kubernetes SELinuxOptions).');

const probeTimings = (description: string): JsonSchema =>
  object(description, {
    initialDelaySeconds: integer('Seconds after start before the first probe.', 0),
    periodSeconds: integer('Seconds between probes.', 1),
    timeoutSeconds: integer('Seconds before a probe counts as failed.', 1),
    failureThreshold: integer('Failures in a row before the probe fails.', 1),
    successThreshold: integer('Successes in a row before the probe passes (liveness: 1).', 1),
  });

const secretKey = (description: string, keyDescription: string, nameMore: JsonSchema = {}): JsonSchema =>
  object(
    description,
    {
      secretName: string('Name of the Secret.', { minLength: 1, ...nameMore }),
      secretKey: string(keyDescription, { minLength: 1 }),
    },
    ['secretName', 'secretKey'],
  );

// --- Kafka, as the ProductPipeline CRD's spec.kafka.tls and spec.kafka.authentication -------------

const kafka: JsonSchema = {
  ...object(
    "Kafka: KAFKA_BROKERS, TLS and authentication as the ProductPipeline's spec.kafka.tls and spec.kafka.authentication, from Strimzi KafkaUser Secrets (credentials only from Secrets, mounted read-only or read through secretKeyRef).",
    {
      brokers: string(
        'KAFKA_BROKERS: comma-separated host:port list (the Strimzi bootstrap Service). Unset: shop-kafka-kafka-bootstrap.kafka:9092 for the relay and the consumer, none for the api (its admin page then says Kafka is not configured).',
        { pattern: '^[^\\s:,]+:[0-9]+(\\s*,\\s*[^\\s:,]+:[0-9]+)*$' },
      ),
      tls: object(
        'TLS to the brokers (KAFKA_SSL, KAFKA_SSL_CA_FILE).',
        {
          enabled: boolean('Connect with TLS (KAFKA_SSL=true).'),
          caSecret: object(
            "CA that signed the brokers' certificates, mounted read-only as KAFKA_SSL_CA_FILE (Strimzi: <cluster>-cluster-ca-cert, key ca.crt); empty name: the system CAs.",
            {
              name: string('Secret name; empty: no CA file.'),
              key: string('Key of the PEM certificate in that Secret.', { minLength: 1 }),
            },
            ['name', 'key'],
          ),
        },
        ['enabled', 'caSecret'],
      ),
      authentication: object(
        "Who the component logs in as, a Strimzi KafkaUser: scram-sha-512 (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD from the user's Secret) or tls (the user's certificate and key mounted read-only as KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE; needs tls.enabled).",
        {
          type: string("'' (none), scram-sha-512 or tls.", { enum: ['', 'scram-sha-512', 'tls'] }),
          username: string("scram-sha-512: the KafkaUser's name (KAFKA_SASL_USERNAME)."),
          passwordSecret: object(
            "scram-sha-512: the KafkaUser's Secret (Strimzi names it after the user) and the key of its password (KAFKA_SASL_PASSWORD).",
            {
              name: string('Secret name.'),
              key: string('Key of the password in that Secret.', { minLength: 1 }),
            },
            ['name', 'key'],
          ),
          certificateSecret: object(
            "tls: the KafkaUser's Secret (Strimzi names it after the user), holding user.crt and user.key.",
            { name: string('Secret name.') },
            ['name'],
          ),
        },
        ['type', 'username', 'passwordSecret', 'certificateSecret'],
      ),
    },
    ['tls', 'authentication'],
  ),
  allOf: [
    {
      if: { properties: { authentication: { properties: { type: { const: 'scram-sha-512' } } } } },
      then: {
        properties: {
          authentication: {
            properties: {
              username: { minLength: 1 },
              passwordSecret: { properties: { name: { minLength: 1 } } },
            },
          },
        },
      },
    },
    {
      if: { properties: { authentication: { properties: { type: { const: 'tls' } } } } },
      then: {
        properties: {
          tls: { properties: { enabled: { const: true } } },
          authentication: { properties: { certificateSecret: { properties: { name: { minLength: 1 } } } } },
        },
      },
    },
  ],
};

// --- The api's seller tokens and admin page -------------------------------------------------------

const auth: JsonSchema = {
  ...object(
    'The api: how writes verify seller tokens (JWT_SECRET from a Secret, or JWT_JWKS_URL), and the admin page token. The relay and the consumer ignore it.',
    {
      jwtSecret: secretKey(
        'JWT_SECRET (HS256, at least 32 characters) from a Secret; used when jwksUrl is empty.',
        'Key of the secret in it.',
      ),
      jwksUrl: string(
        'JWT_JWKS_URL: verify RS256/ES256 tokens with this JWKS instead of JWT_SECRET (then issuer and audience are required); empty: use jwtSecret.',
        { pattern: '^(https?://.+)?$' },
      ),
      issuer: string(
        'JWT_ISSUER: the `iss` every token must carry; required with jwksUrl, checked on HS256 tokens when set; empty: unset.',
      ),
      audience: string(
        'JWT_AUDIENCE: an `aud` every token must name; required with jwksUrl, checked on HS256 tokens when set; empty: unset.',
      ),
      adminToken: object(
        'ADMIN_TOKEN (at least 32 characters) from a Secret: enables the admin page under /admin and the Bearer token for its actions. An empty secretName leaves the admin page disabled (404).',
        {
          secretName: string('Name of the Secret; empty: no admin page.'),
          secretKey: string('Key of the token in it.', { minLength: 1 }),
        },
        ['secretName', 'secretKey'],
      ),
    },
    ['jwtSecret', 'jwksUrl', 'issuer', 'audience', 'adminToken'],
  ),
  if: { properties: { jwksUrl: { minLength: 1 } } },
  then: { properties: { issuer: { minLength: 1 }, audience: { minLength: 1 } } },
};

/** The values every component has, typed by hand; the generator adds the zod-typed parts. */
export const baseSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'shopstream workload chart values (api, relay, consumer)',
  type: 'object',
  additionalProperties: false,
  required: [
    'component',
    'image',
    'serviceAccount',
    'resources',
    'podSecurityContext',
    'securityContext',
    'probes',
    'podDisruptionBudget',
    'database',
    'logLevel',
    'config',
    'scaling',
    'service',
    'kafka',
    'auth',
    'migrations',
    'networkPolicy',
  ],
  properties: {
    component: string(
      "The workload: api, relay or consumer. Empty: the chart's name (the umbrella's aliases api, relay and consumer); the umbrella sets it, so that this schema checks config and the component's own values.",
      { enum: ['', ...COMPONENTS] },
    ),
    enabled: boolean(
      "Set by the umbrella chart's dependency condition (<component>.enabled); ignored by this chart.",
    ),
    global: {
      type: 'object',
      description:
        "Helm's global values, shared with a parent chart (the umbrella); this chart reads imageRegistry and imagePullSecrets.",
      properties: {
        imageRegistry: string(
          'Registry of every image, replacing image.registry (e.g. a mirror). Empty: image.registry.',
        ),
        imagePullSecrets: {
          type: 'array',
          description: "Pull Secrets of every pod, before the chart's own imagePullSecrets: names or {name}.",
          items: pullSecret,
        },
      },
    },
    image: object(
      'Container image: [registry/]repository, then @digest or :tag.',
      {
        registry: string(
          'Image registry (a host, optionally with a port and a path), prepended to the repository; global.imageRegistry replaces it. Empty: the repository as written.',
          { default: 'ghcr.io' },
        ),
        repository: string(
          'Image repository, without the registry (image.registry). Empty: shopstream/<component>.',
          { default: '' },
        ),
        tag: string("Image tag; empty: the chart's appVersion. Ignored when digest is set.", { default: '' }),
        digest: string(
          'Image digest (sha256:<64 hex digits>); when set the reference is repository@digest, without the tag. Empty: by tag.',
          { pattern: '^(sha256:[a-f0-9]{64})?$', default: '' },
        ),
        pullPolicy: string('Image pull policy.', {
          enum: ['Always', 'IfNotPresent', 'Never'],
          default: 'IfNotPresent',
        }),
      },
      ['registry', 'repository', 'tag', 'digest', 'pullPolicy'],
    ),
    imagePullSecrets: {
      type: 'array',
      description:
        'Secrets for pulling the image, after global.imagePullSecrets: names or LocalObjectReferences ({name}).',
      items: pullSecret,
    },
    nameOverride: string(
      "Replaces the component's name in object names and the app.kubernetes.io/name label.",
    ),
    fullnameOverride: string('Replaces the full name (<release>-<component>) of every object.'),
    replicaCount: integer(
      "Pods of the Deployment, unless scaling.managedByPipeline. Unset: api 2, relay 1, consumer 2 (the consumer group's members).",
      0,
    ),
    scaling: object("Who owns the Deployment's replica count.", {
      managedByPipeline: boolean(
        "The ProductPipeline's relay scaling (operator or KEDA) owns replicas: the Deployment has no spec.replicas, so an upgrade never resets them. False: replicaCount. Unset: true for the relay, false for the api and the consumer.",
      ),
    }),
    serviceAccount: object(
      "The pods' ServiceAccount.",
      {
        create: boolean('Create a ServiceAccount for the pods.'),
        name: string('Its name; empty: the release\'s full name (or "default" when create is false).'),
        annotations: stringMap('Annotations of the ServiceAccount (e.g. a cloud IAM role).'),
        automountToken: boolean('Mount an API token into the pods; no component calls the Kubernetes API.'),
      },
      ['create', 'name'],
    ),
    podAnnotations: stringMap('Annotations of the pods.'),
    podLabels: stringMap('Extra labels of the pods.'),
    resources: resources('Container resources (Kubernetes ResourceRequirements).'),
    podSecurityContext: object(
      'Pod securityContext (Kubernetes PodSecurityContext): non-root user 10001, seccomp RuntimeDefault.',
      {
        runAsNonRoot: boolean('Refuse to start a container whose user is root.'),
        runAsUser: integer('User id of every container (the images use 10001).', 0),
        runAsGroup: integer('Primary group id of every container.', 0),
        fsGroup: integer('Group owning mounted volumes.', 0),
        fsGroupChangePolicy: string('When volume ownership is changed.', {
          enum: ['OnRootMismatch', 'Always'],
        }),
        supplementalGroups: {
          type: 'array',
          description: 'Further group ids.',
          items: { type: 'integer', minimum: 0 },
        },
        seccompProfile,
        seLinuxOptions,
        sysctls: {
          type: 'array',
          description: 'Namespaced sysctls.',
          items: object('A sysctl.', { name: string('Sysctl name.'), value: string('Sysctl value.') }, [
            'name',
            'value',
          ]),
        },
      },
    ),
    securityContext: object(
      'Container securityContext (Kubernetes SecurityContext): read-only root filesystem, no privilege escalation, every capability dropped.',
      {
        runAsNonRoot: boolean('Refuse to start as root.'),
        runAsUser: integer('User id (the images use 10001).', 0),
        runAsGroup: integer('Primary group id.', 0),
        readOnlyRootFilesystem: boolean('Mount the root filesystem read-only; /tmp is an emptyDir.'),
        allowPrivilegeEscalation: boolean('Allow setuid binaries to gain privileges.'),
        privileged: boolean('Run privileged (never needed).'),
        capabilities: object('Linux capabilities.', {
          add: { type: 'array', description: 'Capabilities to add.', items: { type: 'string' } },
          drop: {
            type: 'array',
            description: 'Capabilities to drop (ALL by default).',
            items: { type: 'string' },
          },
        }),
        seccompProfile,
        seLinuxOptions,
        procMount: string('proc mount type.', { enum: ['Default', 'Unmasked'] }),
      },
    ),
    service: object(
      "The component's Service.",
      {
        type: string('Service type.', { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] }),
        port: {
          type: 'integer',
          description:
            "The one port the process serves: the container port and the Service port. The api's PORT (port name http: the API and /metrics), the relay's and the consumer's METRICS_PORT (port name metrics: /metrics, /healthz, /readyz). At least 1024 since the container drops every capability. Unset: api 8080, relay 9464, consumer 9465.",
          minimum: 1024,
        },
        annotations: stringMap('Annotations of the Service.'),
      },
      ['type'],
    ),
    probes: object(
      'Probe timings. Liveness is GET /healthz, readiness GET /readyz, both on service.port.',
      {
        liveness: probeTimings('Liveness probe timings (GET /healthz).'),
        readiness: probeTimings('Readiness probe timings (GET /readyz).'),
      },
      ['liveness', 'readiness'],
    ),
    podDisruptionBudget: object(
      'PodDisruptionBudget of the pods.',
      {
        enabled: boolean('Create the PodDisruptionBudget.'),
        maxUnavailable: {
          type: ['integer', 'string'],
          description:
            'Pods that may be down at once during a voluntary disruption: a number or a percentage ("25%").',
          pattern: '^[0-9]+%$',
          minimum: 0,
        },
      },
      ['enabled', 'maxUnavailable'],
    ),
    networkPolicy: object(
      'Optional NetworkPolicy: ingress only to service.port, egress open (PostgreSQL, Kafka, a JWKS URL).',
      {
        enabled: boolean('Create the NetworkPolicy.'),
        ingressFrom: {
          type: 'array',
          description: 'Peers allowed to reach service.port; empty: any source.',
          items: {
            type: 'object',
            description: 'A Kubernetes NetworkPolicyPeer (podSelector, namespaceSelector, ipBlock).',
          },
        },
      },
      ['enabled', 'ingressFrom'],
    ),
    logLevel: { description: 'LOG_LEVEL: pino log level.' },
    database: secretKey(
      'DATABASE_URL comes from this Secret only (postgres:// URL), never from values.',
      'Key of the URL in that Secret.',
    ),
    auth,
    kafka,
    config: {
      type: 'object',
      description:
        "Environment variables of services/<component>/src/config.ts, by their own names, rendered 1:1 as env vars; an unset key keeps the service's default. Which keys, and their types, depend on component.",
      additionalProperties: { type: ['string', 'integer'] },
    },
    migrations: object(
      "Database migrations as a pre-install/pre-upgrade hook Job (node services/shared/dist/db/migrate-cli.js, from the component's image).",
      {
        enabled: boolean(
          'Run the migration hook Job. Unset: true for the api, false for the relay and the consumer.',
        ),
        backoffLimit: integer('Retries of the Job before the install or upgrade fails.', 0),
        activeDeadlineSeconds: integer('Seconds the Job may run in all.', 1),
        serviceAccountName: string(
          'ServiceAccount of the Job (hooks run before this chart\'s ServiceAccount exists); empty: "default".',
        ),
        resources: resources('Resources of the migration container.'),
      },
      ['backoffLimit', 'activeDeadlineSeconds'],
    ),
    terminationGracePeriodSeconds: integer(
      'Seconds between SIGTERM and SIGKILL; the process drains in that time.',
      0,
    ),
    priorityClassName: string('PriorityClass of the pods; empty: none.'),
    nodeSelector: stringMap('Node labels the pods must match.'),
    tolerations: {
      type: 'array',
      description: 'Tolerations of the pods (Kubernetes Toleration).',
      items: { type: 'object' },
    },
    affinity: { type: 'object', description: 'Affinity of the pods (Kubernetes Affinity).' },
    topologySpreadConstraints: {
      type: 'array',
      description: 'Topology spread constraints of the pods (Kubernetes TopologySpreadConstraint).',
      items: { type: 'object' },
    },
  },
};

/** The `config` section's description for one component. */
export const configDescription = (component: Component): string =>
  `Environment variables of services/${component}/src/config.ts, by their own names, rendered 1:1 as env vars; an unset key keeps the service's default. Connection settings, secrets and the port have values of their own.`;
