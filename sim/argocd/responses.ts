/**
 * What the simulated Argo CD answers, in the shapes of Argo CD's own API description
 * (test/fixtures/contracts/argocd-swagger.json, checked by test/contract/argocd-swagger.test.ts):
 * an Application (`v1alpha1Application`: metadata, spec with its source(s) and destination, the
 * requested operation, status with sync, health and operationState; no apiVersion or kind, which the description does not have) and gRPC
 * gateway errors (`runtimeError`: error, code, message).
 */
import type { AppState } from './state';

/** gRPC status codes the simulator answers with. */
export const GRPC = { invalidArgument: 3, notFound: 5, failedPrecondition: 9, unimplemented: 12, internal: 13, unauthenticated: 16 } as const;

export const argoError = (message: string, code: number) => ({ error: message, code, message });

export function applicationJson(app: AppState): Record<string, unknown> {
  const { source, sources, destinationNamespace } = app.spec;
  return {
    metadata: { name: app.spec.name, namespace: 'argocd' },
    spec: {
      project: 'default',
      destination: { server: 'https://kubernetes.default.svc', ...(destinationNamespace ? { namespace: destinationNamespace } : {}) },
      ...(sources?.length ? { sources } : source ? { source } : {}),
    },
    ...(app.operation ? { operation: app.operation } : {}),
    status: {
      sync: { status: app.syncStatus, revision: app.revision },
      health: { status: app.spec.health() },
      ...(app.operationState ? { operationState: app.operationState } : {}),
    },
  };
}
