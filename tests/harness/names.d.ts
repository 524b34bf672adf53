/** A Kafka topic or consumer-group name no other test uses: `<prefix>.<random>`. */
export declare const randomTopic: (prefix?: string) => string;
export declare const randomGroup: (prefix?: string) => string;
/** A PostgreSQL schema (or database) name: lower-case, underscores, starts with a letter. */
export declare const randomSchema: (prefix?: string) => string;
/** A Kubernetes namespace (DNS-1123 label, at most 63 characters). */
export declare const randomNamespace: (prefix?: string) => string;
//# sourceMappingURL=names.d.ts.map
