import { beforeAll, jest } from '@jest/globals';
import { kubeConfig } from './kube.js';
import { releaseOrphanedPipelines } from './orphaned-pipelines.js';

// Integration tests wait on real servers (consumer-group joins, CRD establishment): minutes, not seconds.
jest.setTimeout(180_000);

// Namespaces earlier test files left Terminating go now, before this file starts operators of its own.
beforeAll(async () => {
  await releaseOrphanedPipelines(kubeConfig()).catch(() => undefined);
});
