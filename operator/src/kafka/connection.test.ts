import type { ProductPipeline, ProductPipelineSpec } from '../controllers/pipeline-types.js';
import { targetKey } from './admin-pool.js';
import { kafkaTargetOf } from './connection.js';
import type { SecretReader } from './connection.js';

const CA = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nuser\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nuser\n-----END PRIVATE KEY-----\n';

/** Secrets of namespace `shop`, as a KafkaUser and Strimzi's cluster CA Secret have them. */
function secrets(data: Record<string, Record<string, string>>): SecretReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async values(namespace, name, keys) {
      reads.push(`${namespace}/${name}`);
      const secret = data[name];
      const error = (message: string) =>
        Object.assign(new Error(message), { name: 'SecretUnavailableError' });
      if (!secret) throw error(`secret ${namespace}/${name} not found`);
      const out: Record<string, string> = {};
      for (const key of keys) {
        if (secret[key] === undefined) throw error(`secret ${namespace}/${name} has no key ${key}`);
        out[key] = secret[key];
      }
      return out;
    },
  };
}

const pipeline = (kafka: Partial<ProductPipelineSpec['kafka']>): ProductPipeline => ({
  apiVersion: 'shopstream.io/v1alpha1',
  kind: 'ProductPipeline',
  metadata: { name: 'p', namespace: 'shop' },
  spec: { kafka: { bootstrapServers: 'kafka-0:9093, kafka-1:9093', ...kafka }, topics: [] },
});

const scram = (passwordSecret = 'operator') =>
  pipeline({
    tls: { caSecretRef: { name: 'my-cluster-cluster-ca-cert' } },
    authentication: {
      type: 'scram-sha-512',
      username: 'operator',
      passwordSecretRef: { name: passwordSecret },
    },
  });

const strimzi = {
  'my-cluster-cluster-ca-cert': { 'ca.crt': CA },
  operator: { password: 'pw-1' },
  'operator-tls': { 'user.crt': CERT, 'user.key': KEY, 'ca.crt': CA },
};

describe('kafkaTargetOf', () => {
  it('is plaintext to the bootstrap servers without tls or authentication, reading no Secret', async () => {
    const read = secrets({});
    const target = await kafkaTargetOf(pipeline({}), read);
    expect(target.security).toEqual({});
    expect(read.reads).toEqual([]);
    expect(targetKey(target)).toBe('kafka-0:9093,kafka-1:9093');
  });

  it('SCRAM over TLS from the cluster CA Secret (key ca.crt) and the KafkaUser Secret (key password)', async () => {
    const target = await kafkaTargetOf(scram(), secrets(strimzi));
    expect(target.security).toEqual({
      ssl: { ca: [CA] },
      sasl: { mechanism: 'scram-sha-512', username: 'operator', password: 'pw-1' },
    });
  });

  it('mTLS from a tls KafkaUser Secret (user.crt, user.key)', async () => {
    const target = await kafkaTargetOf(
      pipeline({
        tls: { caSecretRef: { name: 'my-cluster-cluster-ca-cert' } },
        authentication: { type: 'tls', certificateSecretRef: { name: 'operator-tls' } },
      }),
      secrets(strimzi),
    );
    expect(target.security).toEqual({ ssl: { ca: [CA], cert: CERT, key: KEY } });
  });

  it('keys the pool by the material: another user or a rotated password is another client', async () => {
    const one = targetKey(await kafkaTargetOf(scram(), secrets(strimzi)));
    const rotated = targetKey(
      await kafkaTargetOf(scram(), secrets({ ...strimzi, operator: { password: 'pw-2' } })),
    );
    expect(one).toMatch(/^kafka-0:9093,kafka-1:9093#[0-9a-f]{16}$/);
    expect(one).not.toContain('pw-1');
    expect(rotated).not.toBe(one);
    expect(targetKey(await kafkaTargetOf(scram(), secrets(strimzi)))).toBe(one);
  });

  it('names a missing Secret, a missing key or a non-PEM value with its spec field (KafkaCredentialsMissing)', async () => {
    await expect(kafkaTargetOf(scram('nobody'), secrets(strimzi))).rejects.toMatchObject({
      reason: 'KafkaCredentialsMissing',
      terminal: false,
      message: 'spec.kafka.authentication.passwordSecretRef: secret shop/nobody not found',
    });
    await expect(
      kafkaTargetOf(scram(), secrets({ ...strimzi, 'my-cluster-cluster-ca-cert': { 'tls.crt': CA } })),
    ).rejects.toMatchObject({
      reason: 'KafkaCredentialsMissing',
      message: 'spec.kafka.tls.caSecretRef: secret shop/my-cluster-cluster-ca-cert has no key ca.crt',
    });
    await expect(
      kafkaTargetOf(scram(), secrets({ ...strimzi, 'my-cluster-cluster-ca-cert': { 'ca.crt': 'MIIB' } })),
    ).rejects.toMatchObject({
      message:
        'spec.kafka.tls.caSecretRef: secret shop/my-cluster-cluster-ca-cert key ca.crt holds no PEM block',
    });
  });

  it("explains Kafka's refusal in one sentence naming the user and the Secret, never the password", async () => {
    const target = await kafkaTargetOf(scram(), secrets(strimzi));
    const refused = Object.assign(new Error('SASL SCRAM SHA512 authentication failed'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    expect(target.explainRefusal?.(refused)).toBe(
      "Kafka at kafka-0:9093,kafka-1:9093 refused the credentials (SASL SCRAM-SHA-512 authentication failed for user 'operator'): check spec.kafka.authentication.username and the password in secret shop/operator (key password)",
    );
    expect(target.explainRefusal?.(new Error('Connection timeout'))).toBeUndefined();
  });
});
