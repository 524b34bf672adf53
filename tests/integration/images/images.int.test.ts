import { rm } from 'node:fs/promises';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { sign } from 'hono/jwt';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { DirectTopicAdmin } from '@shopstream/operator';
import {
  createTestDatabase,
  freePort,
  infraEnv,
  installPipelineCrd,
  randomGroup,
  randomTopic,
  startPrivateKube,
  waitFor,
} from '../../harness/index.js';
import type { PrivateKube, TestDatabase } from '../../harness/index.js';
import { deploymentOf, jobOf, mainContainer, render } from '../charts/component-charts-helm.js';
import { containerLogs, kubeconfigMount, localImage, podman, runFlags } from './podman.js';
import type { EnvSources } from './podman.js';

/**
 * The images `npm run images` built (tests/run-all.sh builds them before jest), run with podman as
 * the charts run them: the chart is rendered and its pod's user, read-only root filesystem, dropped
 * capabilities, /tmp emptyDir, command and env become the `podman run` flags (runFlags), on the host
 * network against the local PostgreSQL, Kafka and a private kube-apiserver.
 */
const PRODUCTION = ['api', 'relay', 'consumer', 'operator'] as const;
const DEV = ['api-dev', 'relay-dev', 'consumer-dev', 'operator-dev'] as const;
const JWT_SECRET = 'image-test-secret-that-is-at-least-32-characters';
const SELLER = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

describe('the images, run as the charts run them', () => {
  const { kafkaBrokers } = infraEnv();
  const topic = randomTopic('images.product.events');
  const started: string[] = [];
  let db: TestDatabase;
  let sources: EnvSources;

  beforeAll(async () => {
    for (const target of [...PRODUCTION, ...DEV]) {
      const exists = await podman(['image', 'exists', localImage(target)]).then(
        () => true,
        () => false,
      );
      if (!exists) throw new Error(`${localImage(target)} is missing: run \`npm run images\` first`);
    }
    db = await createTestDatabase('images');
    sources = { secrets: { 'shopstream-db/url': db.url, 'shopstream-jwt/secret': JWT_SECRET } };
  });
  afterAll(async () => {
    for (const name of started) await podman(['rm', '--force', '--time', '5', name]).catch(() => undefined);
    const admin = new DirectTopicAdmin(kafkaBrokers);
    for (const t of [topic, `${topic}.dlq`]) await admin.deleteTopic(t).catch(() => undefined);
    await admin.close();
    await db?.drop();
  });

  /** Starts `image` detached with the chart's flags; its logs are in the failure message of `ready`. */
  const start = async (
    name: string,
    image: string,
    run: { flags: string[]; command: string[] },
    extra: string[] = [],
  ): Promise<string> => {
    const container = `${name}-${Date.now()}`;
    await podman(['run', '--detach', '--name', container, ...run.flags, ...extra, image, ...run.command]);
    started.push(container);
    return container;
  };
  const logsOf = containerLogs;
  const ready = async (container: string, url: string, what: string): Promise<void> => {
    await waitFor(async () => (await fetch(url)).ok, { description: what, timeoutMs: 60_000 }).catch(
      async (err: Error) => {
        throw new Error(`${err.message}\n${container} logs:\n${(await logsOf(container)).slice(-4000)}`);
      },
    );
  };
  const chartOf = async (component: string) => {
    const objects = await render('workload', {
      set: [`component=${component}`, `kafka.brokers=${kafkaBrokers}`],
    });
    return { deployment: deploymentOf(objects), objects };
  };

  it('production images hold node and the compiled services only: no npm, compilers or dev dependencies; user 10001', async () => {
    const sizes: Record<string, string> = {};
    for (const target of [...PRODUCTION, ...DEV]) {
      const [size, user] = (
        await podman(['image', 'inspect', '--format', '{{.Size}} {{.Config.User}}', localImage(target)])
      )
        .trim()
        .split(' ');
      sizes[target] = `${Math.round(Number(size) / 1e6)} MB`;
      expect({ target, user }).toEqual({ target, user: '10001:10001' });
    }
    process.stdout.write(`image sizes: ${JSON.stringify(sizes)}\n`);
    for (const target of PRODUCTION) {
      const found = await podman([
        'run',
        '--rm',
        '--network',
        'none',
        localImage(target),
        'node',
        '-e',
        `const fs = require('node:fs');
         const onPath = (b) => process.env.PATH.split(':').some((d) => fs.existsSync(d + '/' + b));
         const tools = ['npm', 'npx', 'corepack', 'yarn', 'tsc', 'gcc', 'cc', 'make', 'python3'].filter(onPath);
         const dev = ['typescript', 'jest', '@swc/core', 'eslint', 'prettier', 'tsx', 'autocannon', 'npm']
           .filter((m) => fs.existsSync('node_modules/' + m) || fs.existsSync('/usr/local/lib/node_modules/' + m));
         const sources = fs.readdirSync('.', { recursive: true }).filter((f) => String(f).endsWith('.ts') && !String(f).endsWith('.d.ts') && !String(f).includes('node_modules'));
         console.log(JSON.stringify({ tools, dev, sources }));`,
      ]);
      expect({ target, ...JSON.parse(found) }).toEqual({ target, tools: [], dev: [], sources: [] });
    }
    // The dev targets are what Tilt live-updates: they must have the compiler the production ones lack.
    const devTsc = await podman([
      'run',
      '--rm',
      '--network',
      'none',
      localImage('api-dev'),
      'node',
      '-e',
      "console.log(require('node:fs').existsSync('node_modules/typescript/bin/tsc'))",
    ]);
    expect(devTsc.trim()).toBe('true');
  });

  it('the migration Job migrates; the API answers /readyz and serves /docs; relay and consumer move an event end to end', async () => {
    const api = await chartOf('api');
    const migrate = runFlags(
      jobOf(api.objects).spec!.template.spec!,
      jobOf(api.objects).spec!.template.spec!.containers[0]!,
      sources,
    );
    const migrated = await podman(['run', '--rm', ...migrate.flags, localImage('api'), ...migrate.command]);
    expect(migrated).toMatch(/migrations applied/);
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      const { rows } = await sql.query<{ n: number }>(`select count(*)::int as n from mikro_orm_migrations`);
      expect(rows[0]!.n).toBeGreaterThan(0);

      const admin = new DirectTopicAdmin(kafkaBrokers);
      for (const name of [topic, `${topic}.dlq`]) await admin.ensureTopic({ name, partitions: 2 });
      await admin.close();

      const apiPort = await freePort();
      const apiContainer = await start(
        'shopstream-api',
        localImage('api'),
        runFlags(api.deployment.spec!.template.spec!, mainContainer(api.deployment), sources, {
          PORT: String(apiPort),
          PRODUCT_EVENTS_TOPIC: topic,
          CONSUMER_TOPIC: topic,
        }),
      );
      await ready(apiContainer, `http://127.0.0.1:${apiPort}/readyz`, 'the API container to be ready');
      const docs = await fetch(`http://127.0.0.1:${apiPort}/docs`);
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-type')).toMatch(/text\/html/);

      const relay = await chartOf('relay');
      const relayPort = await freePort();
      const relayContainer = await start(
        'shopstream-relay',
        localImage('relay'),
        runFlags(relay.deployment.spec!.template.spec!, mainContainer(relay.deployment), sources, {
          METRICS_PORT: String(relayPort),
        }),
      );
      const consumer = await chartOf('consumer');
      const consumerPort = await freePort();
      const consumerContainer = await start(
        'shopstream-consumer',
        localImage('consumer'),
        runFlags(consumer.deployment.spec!.template.spec!, mainContainer(consumer.deployment), sources, {
          METRICS_PORT: String(consumerPort),
          CONSUMER_TOPIC: topic,
          CONSUMER_GROUP_ID: randomGroup('images'),
          CONSUMER_START_FROM: 'earliest',
        }),
      );
      await ready(relayContainer, `http://127.0.0.1:${relayPort}/readyz`, 'the relay container to be ready');
      await ready(
        consumerContainer,
        `http://127.0.0.1:${consumerPort}/readyz`,
        'the consumer container to be ready',
      );

      const token = await sign(
        { sub: SELLER, exp: Math.floor(Date.now() / 1000) + 600 },
        JWT_SECRET,
        'HS256',
      );
      const created = await fetch(`http://127.0.0.1:${apiPort}/products`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ title: 'Lamp from an image', price: 12.5, stock: 3 }),
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      await waitFor(
        async () => {
          const { rows: events } = await sql.query<{ status: string }>(
            'select status from outbox_event where aggregate_id = $1',
            [id],
          );
          const { rows: applied } = await sql.query('select 1 from product_search where product_id = $1', [
            id,
          ]);
          return events[0]?.status === 'PUBLISHED' && applied.length === 1;
        },
        {
          description: 'the event published by the relay container and applied by the consumer container',
          timeoutMs: 60_000,
        },
      ).catch(async (err: Error) => {
        throw new Error(
          `${err.message}\nrelay:\n${(await logsOf(relayContainer)).slice(-3000)}\nconsumer:\n${(await logsOf(consumerContainer)).slice(-3000)}`,
        );
      });
    } finally {
      await sql.end();
    }
  });

  describe('the operator image', () => {
    let kube: PrivateKube;
    let kubeconfigDir: string | undefined;
    const operatorTopic = randomTopic('images.operator');
    beforeAll(async () => {
      kube = await startPrivateKube();
    });
    afterAll(async () => {
      if (kubeconfigDir) await rm(kubeconfigDir, { recursive: true, force: true });
      await kube?.destroy();
      const admin = new DirectTopicAdmin(kafkaBrokers);
      await admin.deleteTopic(operatorTopic).catch(() => undefined);
      await admin.close();
    });

    it('answers /healthz and reconciles a pipeline through a kubeconfig', async () => {
      const kc = kube.kubeConfig;
      await installPipelineCrd(kc);
      const custom = kc.makeApiClient(CustomObjectsApi);
      const pipeline = {
        group: 'shopstream.io',
        version: 'v1alpha1',
        namespace: 'default',
        plural: 'productpipelines',
      };
      await waitFor(
        () =>
          custom.createNamespacedCustomObject({
            ...pipeline,
            body: {
              apiVersion: 'shopstream.io/v1alpha1',
              kind: 'ProductPipeline',
              metadata: { name: 'from-image' },
              spec: {
                kafka: { bootstrapServers: kafkaBrokers, topicManagement: 'Direct' },
                topics: [{ name: operatorTopic, partitions: 2 }],
              },
            },
          }),
        { description: 'the pipeline to be created' },
      );
      const deployment = deploymentOf(await render('operator', {}));
      const port = await freePort();
      // In a cluster the service account's token; here the private API server's kubeconfig.
      const kubeconfig = await kubeconfigMount(kube.kubeconfigPath);
      kubeconfigDir = kubeconfig.dir;
      const operator = await start(
        'shopstream-operator',
        localImage('operator'),
        runFlags(
          deployment.spec!.template.spec!,
          mainContainer(deployment),
          { fields: { 'metadata.namespace': 'default', 'metadata.name': 'operator-from-image' } },
          { METRICS_PORT: String(port), KUBECONFIG: kubeconfig.path },
        ),
        kubeconfig.flags,
      );
      await ready(operator, `http://127.0.0.1:${port}/healthz`, 'the operator container to be healthy');
      await waitFor(
        async () => {
          const p = (await custom.getNamespacedCustomObject({ ...pipeline, name: 'from-image' })) as {
            status?: { conditions?: { type: string; status: string }[] };
          };
          return p.status?.conditions?.find((c) => c.type === 'TopicsReady')?.status === 'True';
        },
        { description: 'TopicsReady=True, set by the operator container', timeoutMs: 60_000 },
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}\noperator logs:\n${(await logsOf(operator)).slice(-4000)}`);
      });
      const admin = new Kafka({ brokers: [kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [operatorTopic] });
        expect(topics[0]?.partitions).toHaveLength(2);
      } finally {
        await admin.disconnect();
      }
    });
  });
});
