import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import type { AclOperationTypes as AclOperation, AclResourceTypes as AclResource } from 'kafkajs';
import { startPrivateKafka } from './private-kafka.js';
import type { PrivateKafka } from './private-kafka.js';

// kafkajs is CommonJS: Node's ESM loader (benches run under tsx) finds only some of its named
// exports, the ACL enums not among them; the default export has them all.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, ResourcePatternTypes, logLevel } =
  kafkajs;

const run = promisify(execFile);

/** The SCRAM users the secured broker knows; each client under test logs in as its own. */
export type ScramUser = 'relay' | 'consumer' | 'cli' | 'api' | 'operator';
const USERS: ScramUser[] = ['relay', 'consumer', 'cli', 'api', 'operator'];

export interface SecuredKafka extends PrivateKafka {
  /** SASL_SSL listener: TLS with the test CA's broker certificate, SCRAM-SHA-512 logins. */
  saslSsl: string;
  /** SSL listener that requires a client certificate signed by the test CA (mTLS, no SASL). */
  mtls: string;
  /** PEM files in the broker's directory. */
  files: {
    /** The CA that signed the broker's and the client's certificates. */
    ca: string;
    /** A CA that signed nothing here: a client trusting only it must refuse the broker. */
    otherCa: string;
    clientCert: string;
    clientKey: string;
  };
  /** SCRAM-SHA-512 passwords by user, created by Kafka's own StorageTool at format time. */
  passwords: Record<ScramUser, string> & Record<string, string>;
  /**
   * Connections the broker refused at authentication on `listener`, counted from its own log
   * (org.apache.kafka.common.network.Selector, "Failed authentication with …"): the measure of a
   * retry storm that no client's own account can hide.
   */
  failedAuthentications(listener: 'saslSsl' | 'mtls'): Promise<number>;
}

/** Runs openssl in `dir` with a space-separated argument line (no argument here holds a space). */
const openssl = (dir: string, args: string) => run('openssl', args.split(' '), { cwd: dir });

async function selfSignedCa(dir: string, name: string): Promise<void> {
  await openssl(
    dir,
    `req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=${name} -keyout ${name}.key -out ${name}.crt`,
  );
}

/** A key and a certificate for `subject` signed by `ca`, with `extensions` (an openssl -extfile text). */
async function signedBy(
  dir: string,
  ca: string,
  name: string,
  subject: string,
  extensions: string,
): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(dir, `req -newkey rsa:2048 -nodes -subj ${subject} -keyout ${name}.key -out ${name}.csr`);
  await openssl(
    dir,
    `x509 -req -in ${name}.csr -CA ${ca}.crt -CAkey ${ca}.key -CAcreateserial -days 2 -out ${name}.crt -extfile ${name}.ext`,
  );
}

/**
 * Kafka's console logging as the shared broker has it (warnings), plus the socket server's INFO
 * line for every failed authentication, which failedAuthentications() counts.
 */
const LOG4J = [
  'status = warn',
  'appender.out.type = Console',
  'appender.out.name = OUT',
  'appender.out.layout.type = PatternLayout',
  'appender.out.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = WARN',
  'rootLogger.appenderRef.out.ref = OUT',
  'logger.selector.name = org.apache.kafka.common.network.Selector',
  'logger.selector.level = INFO',
].join('\n');

export interface SecuredKafkaOptions {
  /**
   * Kafka's StandardAuthorizer with no ACL: a SCRAM user may do only what ACLs added later allow.
   * The PLAINTEXT listener's (and the controller link's) principal, ANONYMOUS, is a super user, so
   * test setup and Kafka's own AclCommand keep working over it.
   */
  authorizer?: boolean;
  /** More SCRAM-SHA-512 users, e.g. the KafkaUser names a chart renders. */
  users?: string[];
}

/**
 * A private single-node broker (private-kafka.ts) with a SASL_SSL listener (SCRAM-SHA-512 users
 * made by Kafka's StorageTool, broker certificate for 127.0.0.1 from a self-signed test CA, PEM
 * key and trust stores) and an SSL listener that requires client certificates; the PLAINTEXT
 * listener stays for the controller link and for test setup.
 */
export async function startSecuredKafka(options: SecuredKafkaOptions = {}): Promise<SecuredKafka> {
  const users = [...USERS, ...(options.users ?? [])];
  const passwords = Object.fromEntries(
    users.map((u) => [u, `${u}-${randomBytes(6).toString('hex')}`]),
  ) as SecuredKafka['passwords'];
  const kafka = await startPrivateKafka({
    listeners: { SASL_SSL: 'SASL_SSL', MTLS: 'SSL' },
    logFile: true,
    log4jConfig: async (dir) => {
      const path = join(dir, 'log4j2.properties');
      await writeFile(path, LOG4J);
      return path;
    },
    prepare: async (dir) => {
      await selfSignedCa(dir, 'ca');
      await selfSignedCa(dir, 'other-ca');
      await signedBy(dir, 'ca', 'broker', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      await signedBy(dir, 'ca', 'client', '/CN=shopstream-client', 'extendedKeyUsage=clientAuth\n');
      // Kafka's PEM key store is one file: the (unencrypted PKCS#8) key, then the certificate chain.
      const keyStore = join(dir, 'broker.pem');
      await writeFile(
        keyStore,
        (await readFile(join(dir, 'broker.key'), 'utf8')) + (await readFile(join(dir, 'broker.crt'), 'utf8')),
      );
      return {
        properties: [
          'ssl.keystore.type=PEM',
          `ssl.keystore.location=${keyStore}`,
          'ssl.truststore.type=PEM',
          `ssl.truststore.location=${join(dir, 'ca.crt')}`,
          'sasl.enabled.mechanisms=SCRAM-SHA-512',
          'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
          'listener.name.mtls.ssl.client.auth=required',
          ...(options.authorizer
            ? [
                'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
                'super.users=User:ANONYMOUS',
              ]
            : []),
        ],
        formatArgs: users.flatMap((u) => [
          '--add-scram',
          `SCRAM-SHA-512=[name=${u},password=${passwords[u]}]`,
        ]),
      };
    },
  });
  const { SASL_SSL: saslSsl, MTLS: mtls } = kafka.listeners as { SASL_SSL: string; MTLS: string };
  const portOf = { saslSsl: saslSsl.split(':')[1], mtls: mtls.split(':')[1] };
  return {
    ...kafka,
    saslSsl,
    mtls,
    files: {
      ca: join(kafka.dir, 'ca.crt'),
      otherCa: join(kafka.dir, 'other-ca.crt'),
      clientCert: join(kafka.dir, 'client.crt'),
      clientKey: join(kafka.dir, 'client.key'),
    },
    passwords,
    async failedAuthentications(listener) {
      const log = await readFile(kafka.logFile!, 'utf8');
      // channelId=<local ip>:<listener port>-<peer ip>:<peer port>-…
      const marker = `channelId=127.0.0.1:${portOf[listener]}-`;
      return log.split('\n').filter((l) => l.includes('Failed authentication with') && l.includes(marker))
        .length;
    },
  };
}

/** The environment keys that make a relay, consumer, API or CLI log in to `kafka` over SASL_SSL as `user`. */
export function saslSslEnv(
  kafka: SecuredKafka,
  user: ScramUser,
  overrides: { password?: string; caFile?: string } = {},
): Record<string, string> {
  return {
    KAFKA_BROKERS: kafka.saslSsl,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: overrides.caFile ?? kafka.files.ca,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: user,
    KAFKA_SASL_PASSWORD: overrides.password ?? kafka.passwords[user],
  };
}

/** The environment keys for the mTLS listener: the test CA and the client certificate, no SASL. */
export function mtlsEnv(kafka: SecuredKafka, withCertificate = true): Record<string, string> {
  return {
    KAFKA_BROKERS: kafka.mtls,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: kafka.files.ca,
    ...(withCertificate
      ? { KAFKA_SSL_CERT_FILE: kafka.files.clientCert, KAFKA_SSL_KEY_FILE: kafka.files.clientKey }
      : {}),
  };
}

/** One rule of a Strimzi KafkaUser's spec.authorization.acls (kafka.strimzi.io/v1). */
export interface KafkaUserAcl {
  resource: {
    type: 'topic' | 'group' | 'cluster' | 'transactionalId';
    name?: string;
    patternType?: 'literal' | 'prefix';
  };
  operations: string[];
  type?: 'allow' | 'deny';
  host?: string;
}

/** Strimzi's operation names → Kafka's ACL operation codes (kafkajs AclOperationTypes). */
const OPERATIONS: Record<string, AclOperation> = {
  All: AclOperationTypes.ALL,
  Read: AclOperationTypes.READ,
  Write: AclOperationTypes.WRITE,
  Create: AclOperationTypes.CREATE,
  Delete: AclOperationTypes.DELETE,
  Alter: AclOperationTypes.ALTER,
  Describe: AclOperationTypes.DESCRIBE,
  ClusterAction: AclOperationTypes.CLUSTER_ACTION,
  DescribeConfigs: AclOperationTypes.DESCRIBE_CONFIGS,
  AlterConfigs: AclOperationTypes.ALTER_CONFIGS,
  IdempotentWrite: AclOperationTypes.IDEMPOTENT_WRITE,
};
const RESOURCES: Record<KafkaUserAcl['resource']['type'], AclResource> = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  cluster: AclResourceTypes.CLUSTER,
  transactionalId: AclResourceTypes.TRANSACTIONAL_ID,
};

/**
 * Gives User:<user> the ACL rules of a KafkaUser on `kafka`, as Strimzi's User Operator does: one
 * CreateAcls request of the Admin API, over the PLAINTEXT listener (a super user there).
 */
export async function addKafkaUserAcls(
  kafka: PrivateKafka,
  user: string,
  acls: KafkaUserAcl[],
): Promise<void> {
  const admin = new Kafka({
    clientId: 'acl-setup',
    brokers: [kafka.brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await admin.createAcls({
      acl: acls.flatMap((acl) =>
        acl.operations.map((operation) => {
          const code = OPERATIONS[operation];
          if (code === undefined) throw new Error(`unknown ACL operation ${operation}`);
          return {
            resourceType: RESOURCES[acl.resource.type],
            resourceName: acl.resource.type === 'cluster' ? 'kafka-cluster' : (acl.resource.name ?? '*'),
            resourcePatternType:
              acl.resource.patternType === 'prefix'
                ? ResourcePatternTypes.PREFIXED
                : ResourcePatternTypes.LITERAL,
            principal: `User:${user}`,
            host: acl.host ?? '*',
            operation: code,
            permissionType: acl.type === 'deny' ? AclPermissionTypes.DENY : AclPermissionTypes.ALLOW,
          };
        }),
      ),
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Whether `refused` failed authentications in the broker's log are one login by a kafkajs client.
 * Usually one; twice, in full-suite runs on a loaded machine, one `shopstream lag` showed as two
 * (15 logins in a row on a quieter one: one each). kafkajs retries a connect that failed as a
 * connection error (brokerPool.connect), and under load the broker's close of the refused connection
 * or the connect timeout can be what it sees first. Two is still one login, not a retry storm.
 */
export const oneLogin = (refused: number): boolean => refused === 1 || refused === 2;
