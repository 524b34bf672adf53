import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ApiextensionsV1Api, AppsV1Api, CustomObjectsApi, dumpYaml, loadYaml } from '@kubernetes/client-node';
import type { V1CustomResourceDefinition, V1JSONSchemaProps } from '@kubernetes/client-node';
import type { ProductPipeline } from '@shopstream/operator';
import { infraEnv, randomNamespace, repoRoot, startPrivateKube, waitFor } from '../../harness/index.js';
import type { PrivateKube } from '../../harness/index.js';

const run = promisify(execFile);
const CRD_NAME = 'productpipelines.shopstream.io';
const CRD_FILE = join('crds', `${CRD_NAME}.yaml`);
const chart = join(repoRoot, 'charts', 'operator');
const pipelines = { group: 'shopstream.io', version: 'v1alpha1', plural: 'productpipelines' };
/** The fields the current CRD added to spec.kafka: the previous chart's CRD did not have them. */
const NEWEST_KAFKA_FIELDS = ['tls', 'authentication'];

/**
 * The shell block of the "Upgrading" section of charts/operator/README.md: the test runs the text
 * users read, so the two cannot drift apart.
 */
async function documentedUpgradeStep(): Promise<string> {
  const readme = await readFile(join(chart, 'README.md'), 'utf8');
  const section = /^## Upgrading\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1];
  const block = section && /^```sh\n([\s\S]*?)^```/m.exec(section)?.[1];
  if (!block) throw new Error('charts/operator/README.md has no ```sh block under "## Upgrading"');
  return block;
}

/**
 * The CRD as the previous chart version shipped it: the current one without spec.kafka.tls and
 * spec.kafka.authentication, and without the CEL rule that reads them (it would not compile).
 * Built from the real file, so it tracks every other change to the CRD.
 */
function previousCrd(current: string): string {
  const crd = loadYaml<V1CustomResourceDefinition>(current);
  const kafka = crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!.properties!.kafka!;
  for (const field of NEWEST_KAFKA_FIELDS) {
    if (!kafka.properties?.[field]) throw new Error(`the CRD has no spec.kafka.${field} to take out`);
    delete kafka.properties[field];
  }
  // loadYaml gives client-node's model, which spells x-kubernetes-validations so.
  kafka.x_kubernetes_validations = kafka.x_kubernetes_validations?.filter(
    (v) => !NEWEST_KAFKA_FIELDS.some((field) => v.rule.includes(`self.${field}`)),
  );
  return dumpYaml(crd);
}

/** spec.kafka of a pipeline on secured Kafka: the fields the previous CRD lacks. */
const SECURED_KAFKA = {
  tls: { caSecretRef: { name: 'shop-kafka-cluster-ca-cert' } },
  authentication: {
    type: 'scram-sha-512',
    username: 'shopstream-operator',
    passwordSecretRef: { name: 'shopstream-operator' },
  },
};

/** A Direct pipeline with `kafka` added to its spec.kafka. */
const pipeline = (name: string, kafka: Record<string, unknown>) => ({
  apiVersion: `${pipelines.group}/${pipelines.version}`,
  kind: 'ProductPipeline',
  metadata: { name },
  spec: {
    kafka: { bootstrapServers: 'shop-kafka-kafka-bootstrap:9093', topicManagement: 'Direct', ...kafka },
    topics: [{ name: 'product.events', partitions: 1 }],
  },
});

/**
 * Issue 16 item 6: Helm installs a chart's crds/ on the first install only. The operator chart is
 * installed with the previous CRD (a stand-in for the previous chart version) on a private API
 * server (the shared one serves the current CRD to every other test), then upgraded to the
 * current chart: the CRD stays the old one and a pipeline's new fields are pruned. The upgrade
 * step of charts/operator/README.md, run as written, serves them; `helm uninstall` leaves the CRD
 * and the pipelines. The operator Deployment never runs: only Helm and the API server are tested.
 */
describe('upgrading the operator chart when its CRD gained fields', () => {
  const env = infraEnv();
  const release = 'shopstream-operator';
  const namespace = randomNamespace('crd-upgrade');
  let kube: PrivateKube;
  let work: string;
  let toolEnv: Record<string, string>;
  let previousChart: string;

  const helm = (args: string[]) =>
    run(env.helm, [...args, '--namespace', namespace], { env: toolEnv }).catch((err: unknown) => {
      const e = err as { stderr?: string; message: string };
      throw new Error(`helm ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
    });
  const crdKafkaFields = async () => {
    const crd = await kube.kubeConfig
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: CRD_NAME });
    const spec = crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec as V1JSONSchemaProps;
    return Object.keys(spec.properties!.kafka!.properties!).sort();
  };
  const custom = () => kube.kubeConfig.makeApiClient(CustomObjectsApi);
  const createPipeline = (body: object) =>
    custom().createNamespacedCustomObject({ ...pipelines, namespace, body }) as Promise<ProductPipeline>;
  const readPipeline = (name: string) =>
    custom().getNamespacedCustomObject({ ...pipelines, namespace, name }) as Promise<ProductPipeline>;

  beforeAll(async () => {
    kube = await startPrivateKube();
    work = await mkdtemp(join(tmpdir(), 'crd-upgrade-'));
    // Helm and kubectl keep caches and config under HOME: the test's own, not the user's.
    await mkdir(join(work, 'home'));
    toolEnv = {
      PATH: [dirname(env.helm), dirname(env.kubectl), process.env.PATH ?? ''].join(delimiter),
      HOME: join(work, 'home'),
      KUBECONFIG: kube.kubeconfigPath,
    };
    previousChart = join(work, 'operator');
    await cp(chart, previousChart, { recursive: true });
    await writeFile(
      join(previousChart, CRD_FILE),
      previousCrd(await readFile(join(chart, CRD_FILE), 'utf8')),
    );
    await helm(['install', release, previousChart, '--create-namespace']);
  }, 180_000);
  afterAll(async () => {
    await kube?.destroy();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('helm upgrade keeps the previous CRD, and the API server prunes spec.kafka.authentication', async () => {
    expect(await crdKafkaFields()).toEqual(['bootstrapServers', 'clusterRef', 'topicManagement']);
    await helm(['upgrade', release, chart]);

    expect(await crdKafkaFields()).toEqual(['bootstrapServers', 'clusterRef', 'topicManagement']);
    // Accepted without an error (kubectl apply would refuse it; Helm and this client only get a
    // warning), and stored without the fields the old schema does not know.
    await waitFor(() => createPipeline(pipeline('before-step', SECURED_KAFKA)), {
      description: 'the API server to accept the pipeline',
      timeoutMs: 15_000,
    });
    const stored = await readPipeline('before-step');
    expect(stored.spec.kafka).toEqual({
      bootstrapServers: 'shop-kafka-kafka-bootstrap:9093',
      topicManagement: 'Direct',
    });
  });

  it("the README's upgrade step serves spec.kafka.tls and authentication, and pipelines keep them", async () => {
    await run('bash', ['-euo', 'pipefail', '-c', await documentedUpgradeStep()], {
      env: { ...toolEnv, CHART: chart },
    }).catch((err: unknown) => {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`the README's upgrade step failed: ${e.stderr ?? ''}${e.stdout ?? e.message}`, {
        cause: err,
      });
    });

    expect(await crdKafkaFields()).toEqual([
      'authentication',
      'bootstrapServers',
      'clusterRef',
      'tls',
      'topicManagement',
    ]);
    await createPipeline(pipeline('after-step', SECURED_KAFKA));
    expect((await readPipeline('after-step')).spec.kafka).toEqual({
      bootstrapServers: 'shop-kafka-kafka-bootstrap:9093',
      topicManagement: 'Direct',
      tls: { caSecretRef: { name: 'shop-kafka-cluster-ca-cert', key: 'ca.crt' } },
      authentication: {
        type: 'scram-sha-512',
        username: 'shopstream-operator',
        passwordSecretRef: { name: 'shopstream-operator', key: 'password' },
      },
    });
    // The new CEL rules are served too: tls authentication without kafka.tls is refused.
    const tlsLoginWithoutTls = pipeline('refused', {
      authentication: { type: 'tls', certificateSecretRef: { name: 'shopstream-operator' } },
    });
    await expect(createPipeline(tlsLoginWithoutTls)).rejects.toThrow(
      /authentication type tls needs kafka.tls/,
    );
    // What was written under the old schema stays without the fields: the README says to re-apply.
    expect((await readPipeline('before-step')).spec.kafka).not.toHaveProperty('authentication');
  });

  it('helm uninstall leaves the CRD and the pipelines in place', async () => {
    await helm(['uninstall', release, '--wait']);

    const deployments = await kube.kubeConfig
      .makeApiClient(AppsV1Api)
      .listNamespacedDeployment({ namespace });
    expect(deployments.items).toEqual([]);
    expect(await crdKafkaFields()).toContain('authentication');
    const left = (await custom().listNamespacedCustomObject({ ...pipelines, namespace })) as {
      items: ProductPipeline[];
    };
    expect(left.items.map((p) => p.metadata.name).sort()).toEqual(['after-step', 'before-step']);
    expect((await readPipeline('after-step')).spec.kafka.authentication).toMatchObject({
      type: 'scram-sha-512',
    });
  });
});
