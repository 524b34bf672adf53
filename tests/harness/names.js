import { randomBytes } from 'node:crypto';
const suffix = () => randomBytes(4).toString('hex');
/** A Kafka topic or consumer-group name no other test uses: `<prefix>.<random>`. */
export const randomTopic = (prefix = 'test') => `${prefix}.${suffix()}`;
export const randomGroup = (prefix = 'test-group') => `${prefix}-${suffix()}`;
/** A PostgreSQL schema (or database) name: lower-case, underscores, starts with a letter. */
export const randomSchema = (prefix = 'test') => `${prefix.replace(/[^a-z0-9_]/g, '_')}_${suffix()}`;
/** A Kubernetes namespace (DNS-1123 label, at most 63 characters). */
export const randomNamespace = (prefix = 'test') =>
  `${prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-${suffix()}`.slice(0, 63);
//# sourceMappingURL=names.js.map
