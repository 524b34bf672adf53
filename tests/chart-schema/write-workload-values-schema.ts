/**
 * `npm run charts:schema`: writes charts/workload/values.schema.json from the services' zod
 * schemas and workload-schema-base.ts. workload-values-schema.test.ts fails while the committed
 * file differs from what this writes.
 */
import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { renderWorkloadValuesSchema, workloadValuesSchemaFile } from './workload-values-schema.js';

await writeFile(workloadValuesSchemaFile, await renderWorkloadValuesSchema());
process.stdout.write(`wrote ${relative(process.cwd(), workloadValuesSchemaFile)}\n`);
