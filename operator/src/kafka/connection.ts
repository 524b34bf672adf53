import { holdsPem, kafkaSecurityFailure, kafkaSecurityFromMaterial } from '@shopstream/shared';
import type { KafkaSecurityMaterial, KafkaSecuritySources } from '@shopstream/shared';
import { kafkaCredentialsMissing } from '../controllers/errors.js';
import type { ProductPipeline } from '../controllers/pipeline-types.js';
import type { KafkaTarget } from './admin-pool.js';

/** The keys a Strimzi KafkaUser Secret of a tls user holds the client certificate and key under. */
export const USER_CERT_KEY = 'user.crt';
export const USER_KEY_KEY = 'user.key';
/** CRD defaults of the Secret keys (code fallbacks for objects built without the API server). */
export const DEFAULT_CA_KEY = 'ca.crt';
export const DEFAULT_PASSWORD_KEY = 'password';

/** Reads keys of a Secret in a namespace (kube/secrets.ts); fails with SecretUnavailableError when one is missing. */
export interface SecretReader {
  values(namespace: string, name: string, keys: string[]): Promise<Record<string, string>>;
}

/**
 * Where the operator's Kafka clients for `pipeline` connect and as whom: spec.kafka.bootstrapServers,
 * TLS (spec.kafka.tls, its CA from caSecretRef) and the login (spec.kafka.authentication: a SCRAM
 * password or a tls user's certificate, from Secrets shaped like a Strimzi KafkaUser's), all in the
 * pipeline's namespace. The Secrets are read at every call, so a rotated one is used at the next
 * reconcile (a new pool key: a new client).
 * @throws ReconcileError KafkaCredentialsMissing naming the Secret, its key and the spec field when
 *   a Secret or key is missing or a certificate holds no PEM; other API errors (403, outages) as they are.
 */
export async function kafkaTargetOf(pipeline: ProductPipeline, secrets: SecretReader): Promise<KafkaTarget> {
  const { bootstrapServers, tls, authentication: auth } = pipeline.spec.kafka;
  const namespace = pipeline.metadata.namespace;
  const read = async (field: string, name: string, keys: string[], pem: boolean) => {
    let values: Record<string, string>;
    try {
      values = await secrets.values(namespace, name, keys);
    } catch (err) {
      if ((err as Error).name !== 'SecretUnavailableError') throw err;
      throw kafkaCredentialsMissing(`${field}: ${(err as Error).message}`);
    }
    if (pem)
      for (const key of keys)
        if (!holdsPem(values[key]!))
          throw kafkaCredentialsMissing(
            `${field}: secret ${namespace}/${name} key ${key} holds no PEM block`,
          );
    return values;
  };

  const material: KafkaSecurityMaterial = {};
  const sources: KafkaSecuritySources = {
    credentials: 'spec.kafka.authentication',
    caHint: "spec.kafka.tls.caSecretRef to a Secret with the CA that signed the brokers' certificates",
    clientCertificateHint: 'spec.kafka.authentication type tls with certificateSecretRef',
  };
  if (tls) {
    material.tls = true;
    const ref = tls.caSecretRef;
    if (ref) {
      const key = ref.key ?? DEFAULT_CA_KEY;
      material.ca = (await read('spec.kafka.tls.caSecretRef', ref.name, [key], true))[key];
      sources.ca = { name: `secret ${namespace}/${ref.name}`, detail: `key ${key}` };
    }
  }
  if (auth?.type === 'scram-sha-512' && auth.passwordSecretRef && auth.username) {
    const ref = auth.passwordSecretRef;
    const key = ref.key ?? DEFAULT_PASSWORD_KEY;
    const password = (await read('spec.kafka.authentication.passwordSecretRef', ref.name, [key], false))[
      key
    ]!;
    material.sasl = { mechanism: 'scram-sha-512', username: auth.username, password };
    sources.credentials = `spec.kafka.authentication.username and the password in secret ${namespace}/${ref.name} (key ${key})`;
  } else if (auth?.type === 'tls' && auth.certificateSecretRef) {
    const { name } = auth.certificateSecretRef;
    const pair = await read(
      'spec.kafka.authentication.certificateSecretRef',
      name,
      [USER_CERT_KEY, USER_KEY_KEY],
      true,
    );
    material.cert = pair[USER_CERT_KEY];
    material.key = pair[USER_KEY_KEY];
    sources.clientCertificate = { name: `secret ${namespace}/${name}`, detail: `key ${USER_CERT_KEY}` };
  }
  // The CRD's rules make these unreachable through the API server; an object built elsewhere gets the same answer.
  if (auth?.type === 'scram-sha-512' && !material.sasl)
    throw kafkaCredentialsMissing(
      'spec.kafka.authentication: scram-sha-512 needs username and passwordSecretRef',
    );
  if (auth?.type === 'tls' && (!material.cert || !material.tls))
    throw kafkaCredentialsMissing(
      'spec.kafka.authentication: tls needs certificateSecretRef and spec.kafka.tls',
    );

  const brokers = bootstrapServers.split(',').map((b) => b.trim());
  const who = {
    KAFKA_SASL_MECHANISM: material.sasl?.mechanism,
    KAFKA_SASL_USERNAME: material.sasl?.username ?? auth?.username,
  };
  return {
    bootstrapServers,
    security: kafkaSecurityFromMaterial(material),
    explainRefusal: (err) => kafkaSecurityFailure(err, who, brokers, sources)?.message,
  };
}
