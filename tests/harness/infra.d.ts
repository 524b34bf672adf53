/** Where the real services of `infra/infra.sh up` listen, and the tools that check them. */
export interface InfraEnv {
  databaseUrl: string;
  kafkaBrokers: string;
  kafkaClasspath: string;
  kafkaLog4jConfig: string;
  kubeconfig: string;
  kubectl: string;
  helm: string;
  promtool: string;
  prometheus: string;
  runDir: string;
  versions: {
    postgres: string;
    kafka: string;
    kubernetes: string;
    etcd: string;
    helm: string;
  };
}
export declare const repoRoot: string;
export declare const infraScript: string;
/**
 * The endpoints of the running infrastructure. Global setup puts them in the environment once;
 * outside jest (or when it did not run) the infra script is asked directly.
 */
export declare function infraEnv(): InfraEnv;
//# sourceMappingURL=infra.d.ts.map
