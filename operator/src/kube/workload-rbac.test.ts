import { ApiException } from '@kubernetes/client-node';
import { FORBIDDEN_RECHECK_MS, ReconcileError, reasonForError } from '../controllers/errors.js';
import { workloadAccessError } from './workload-rbac.js';

const apiError = (code: number) => new ApiException(code, `HTTP-Code: ${code}`, { code }, {});

describe('workloadAccessError', () => {
  const request = { verb: 'get', resource: 'secrets', namespace: 'shop-b', name: 'outbox-db' } as const;

  it('turns a 403 into Forbidden naming the namespace that lacks the Role and the value that grants it, rechecked at its own pace', () => {
    const err = workloadAccessError(apiError(403), request);
    expect(err).toBeInstanceOf(ReconcileError);
    expect(reasonForError(err, 'fallback')).toBe('Forbidden');
    expect((err as ReconcileError).message).toBe(
      '403 Forbidden: the operator may not get secrets in namespace shop-b (outbox-db); its chart grants ' +
        'secrets and deployments/scale only in the namespaces of rbac.workloadNamespaces (default: the ' +
        "operator's own namespace; with watchNamespace set: that namespace), and shop-b lacks that Role: " +
        'add shop-b to rbac.workloadNamespaces',
    );
    expect((err as ReconcileError).recheckAfterMs).toBe(FORBIDDEN_RECHECK_MS);
    expect((err as ReconcileError).terminal).toBe(false);
  });

  it('leaves anything else as it is (an outage keeps its own reason and the backoff)', () => {
    for (const other of [apiError(500), apiError(401), new TypeError('fetch failed')])
      expect(workloadAccessError(other, request)).toBe(other);
  });
});
