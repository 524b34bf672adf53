import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * What the API server's audit log says a service account did, and what a chart's RBAC objects
 * grant it, in one shape each so the two can be compared both ways: every request covered by a
 * grant, every grant used by a request.
 */

/** One request as the audit log records it (stage ResponseComplete or ResponseStarted). */
export interface AuditedRequest {
  verb: string;
  /** Resource requests: core is ''. */
  group?: string;
  /** "deployments" or, for a subresource, "deployments/scale" (the form RBAC rules use). */
  resource?: string;
  namespace?: string;
  name?: string;
  /** Non-resource requests (discovery): the path without the query. */
  path?: string;
  code?: number;
  decision?: string;
}

/** One rule of a Role or ClusterRole, with where its binding makes it apply. */
export interface Grant {
  /** `*`: a ClusterRole bound by a ClusterRoleBinding (every namespace and cluster scope). */
  scope: string;
  /** Which object it came from, for messages: "ClusterRole/shop-operator". */
  source: string;
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

/** Logs every request of service accounts (Metadata: no bodies), nothing else. */
export async function writeAuditPolicy(dir: string): Promise<{ args: string[]; logPath: string }> {
  const policy = join(dir, 'audit-policy.yaml');
  const logPath = join(dir, 'audit.log');
  await writeFile(
    policy,
    `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    userGroups: ["system:serviceaccounts"]
  - level: None
`,
  );
  return {
    args: [`--audit-policy-file=${policy}`, `--audit-log-path=${logPath}`, '--audit-log-mode=blocking'],
    logPath,
  };
}

interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string };
  objectRef?: {
    resource?: string;
    subresource?: string;
    namespace?: string;
    name?: string;
    apiGroup?: string;
  };
  responseStatus?: { code?: number };
  annotations?: Record<string, string>;
}

/** The requests `username` made, from a JSON-lines audit log. */
export async function auditedRequests(logPath: string, username: string): Promise<AuditedRequest[]> {
  const events = (await readFile(logPath, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditEvent)
    .filter((e) => e.user.username === username && e.stage !== 'RequestReceived');
  return events.flatMap((e): AuditedRequest[] => {
    const common = {
      verb: e.verb,
      code: e.responseStatus?.code,
      decision: e.annotations?.['authorization.k8s.io/decision'],
    };
    const ref = e.objectRef;
    if (!ref?.resource) return [{ ...common, path: e.requestURI.split('?')[0]! }];
    const request = {
      ...common,
      group: ref.apiGroup ?? '',
      resource: ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource,
      namespace: ref.namespace,
      // A create has no name in its URL, which is all resourceNames can match (the audit fills it in).
      name: e.verb === 'create' ? undefined : ref.name,
    };
    // A server-side apply that creates the object (201) is authorized as patch and then as create;
    // the log records the request's verb only.
    const created = e.verb === 'patch' && e.stage === 'ResponseComplete' && e.responseStatus?.code === 201;
    return created ? [request, { ...request, verb: 'create', name: undefined }] : [request];
  });
}

/**
 * A created resource whose objects the operator gives an ownerReference with blockOwnerDeletion
 * (from the code: the audit log has no bodies), and the owner's resource it points at.
 */
export interface BlockingOwnerReference {
  group: string;
  resource: string;
  owner: { group: string; resource: string };
}

/**
 * The authorizations the OwnerReferencesPermissionEnforcement admission plugin makes on a create's
 * behalf, which the audit log does not record as requests of their own: an ownerReference with
 * blockOwnerDeletion set needs `update` on the owner's finalizers subresource, in the object's
 * namespace. (An update that leaves the references as they are is not checked.)
 */
export function ownerReferenceChecks(
  requests: AuditedRequest[],
  blocking: BlockingOwnerReference[],
): AuditedRequest[] {
  return requests.flatMap((r): AuditedRequest[] => {
    if (r.verb !== 'create' || r.code === undefined || r.code >= 300) return [];
    const ref = blocking.find((b) => b.group === r.group && b.resource === r.resource);
    if (!ref) return [];
    const owner = { group: ref.owner.group, resource: `${ref.owner.resource}/finalizers` };
    return [{ verb: 'update', ...owner, namespace: r.namespace, code: r.code, decision: 'allow' }];
  });
}

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}
export interface RbacObject extends KubernetesObject {
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

/** The rendered RBAC objects of a `helm template` output (what the test applies). */
export function rbacObjects(manifests: string): RbacObject[] {
  const kinds = ['ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'];
  return (loadAllYaml(manifests) as (RbacObject | null)[]).filter((o): o is RbacObject =>
    Boolean(o && kinds.includes(o.kind ?? '')),
  );
}

/** The rules the objects grant the service account `namespace/name`, through the bindings among them. */
export function grantsFor(
  objects: RbacObject[],
  serviceAccount: { namespace: string; name: string },
): Grant[] {
  const roles = new Map(
    objects
      .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
      .map((o) => [`${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`, o]),
  );
  const grants: Grant[] = [];
  for (const binding of objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
    const bound = binding.subjects?.some(
      (s) =>
        s.kind === 'ServiceAccount' &&
        s.name === serviceAccount.name &&
        s.namespace === serviceAccount.namespace,
    );
    if (!bound || !binding.roleRef) continue;
    const bindingNamespace = binding.kind === 'RoleBinding' ? (binding.metadata?.namespace ?? '') : '';
    const roleNamespace = binding.roleRef.kind === 'Role' ? bindingNamespace : '';
    const role = roles.get(`${binding.roleRef.kind}/${roleNamespace}/${binding.roleRef.name}`);
    if (!role) throw new Error(`${binding.kind} ${binding.metadata?.name} refers to a role the chart lacks`);
    for (const rule of role.rules ?? [])
      grants.push({
        scope: binding.kind === 'ClusterRoleBinding' ? '*' : bindingNamespace,
        source: `${role.kind}/${role.metadata?.name}`,
        ...rule,
      });
  }
  return grants;
}

const has = (list: string[] | undefined, value: string) =>
  Boolean(list?.includes('*') || list?.includes(value));
const urlMatches = (pattern: string, path: string) =>
  pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path;

/** RBAC's own matching: whether `grant` allows `request`. */
export function allows(grant: Grant, request: AuditedRequest): boolean {
  if (!has(grant.verbs, request.verb)) return false;
  if (request.path !== undefined)
    return Boolean(grant.nonResourceURLs?.some((u) => urlMatches(u, request.path!)));
  if (grant.scope !== '*' && grant.scope !== request.namespace) return false;
  if (!has(grant.apiGroups, request.group ?? '') || !has(grant.resources, request.resource ?? ''))
    return false;
  return !grant.resourceNames?.length || grant.resourceNames.includes(request.name ?? '');
}

/** Each grant cut into single permissions (one verb on one resource or URL), so each can be checked for use. */
export function permissionsOf(grants: Grant[]): { describe: string; grant: Grant }[] {
  const out: { describe: string; grant: Grant }[] = [];
  for (const g of grants)
    for (const verb of g.verbs) {
      for (const url of g.nonResourceURLs ?? [])
        out.push({
          describe: `${verb} ${url} (${g.source})`,
          grant: { ...g, verbs: [verb], nonResourceURLs: [url] },
        });
      for (const group of g.apiGroups ?? [])
        for (const resource of g.resources ?? [])
          out.push({
            describe: `${verb} ${group || 'core'}/${resource}${g.resourceNames ? ` ${g.resourceNames.join(',')}` : ''} in ${g.scope === '*' ? 'all namespaces' : g.scope} (${g.source})`,
            grant: { ...g, verbs: [verb], apiGroups: [group], resources: [resource] },
          });
    }
  return out;
}

export const describeRequest = (r: AuditedRequest): string =>
  r.path !== undefined
    ? `${r.verb} ${r.path}`
    : `${r.verb} ${r.group || 'core'}/${r.resource}${r.name ? ` ${r.name}` : ''}${r.namespace ? ` in ${r.namespace}` : ''}`;

/** Both directions at once: requests no grant covers, and permissions no request used. */
export function compare(
  grants: Grant[],
  requests: AuditedRequest[],
): { uncovered: string[]; unused: string[] } {
  const uncovered = [
    ...new Set(requests.filter((r) => !grants.some((g) => allows(g, r))).map(describeRequest)),
  ].sort();
  const unused = permissionsOf(grants)
    .filter((p) => !requests.some((r) => allows(p.grant, r)))
    .map((p) => p.describe)
    .sort();
  return { uncovered, unused };
}
