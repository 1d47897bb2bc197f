/**
 * Simulated Argo CD API server: the two calls the automation makes (GET an application, POST its
 * sync), answered in the shapes of Argo CD's own API description.
 *
 * - routes.ts: authentication, the two routes and what they reject;
 * - state.ts: the Applications, their two-step operations and the application controller;
 * - responses.ts: the Application and error bodies (`v1alpha1Application`, `runtimeError`);
 * - faults.ts: injected failures (`failNext`), and Argo CD unreachable (`setUnreachable`: the port
 *   is closed, so connections are refused, until it is reachable again on the same port), and an
 *   operation that never finishes (`stallOperations`: picked up, then Running until released).
 */
import { createServer, type Server } from 'node:http';
import { FaultQueue } from '../fault-queue';
import { closeServer, listen, sendJson, type LoggedRequest } from '../http-util';
import type { ArgoFault } from './faults';
import { argoError, GRPC } from './responses';
import { argoRoutes } from './routes';
import { ArgoApplications, type ArgoOperationState, type ArgoSimApplication } from './state';

export type { ArgoFault } from './faults';
export type { ArgoOperation, ArgoOperationState, ArgoSimApplication, ArgoSimSource } from './state';

export interface ArgoSimOptions {
  token: string;
  applications: ArgoSimApplication[];
  /** How long a sync operation runs once started; default 50 ms. */
  applyDelayMs?: number;
  /**
   * How long the application controller takes to pick up a requested operation; until then GET shows
   * the previous operation's state. Default 0 (picked up before the POST answers).
   */
  pickupDelayMs?: number;
  /** When the seeded previous sync of every application started; null: never synced. Default 1 hour ago. */
  previousSyncAgoMs?: number | null;
  /** Clock for operation timestamps; default the system clock. */
  now?: () => Date;
}

export interface ArgoSim {
  url: string;
  requests: LoggedRequest[];
  /** Bodies of every accepted POST …/sync, oldest first. */
  syncRequests: Array<{ application: string; body: Record<string, unknown> }>;
  /** Operations started through the API (not automated ones). */
  syncCount(name: string): number;
  /** The application's current operation state (null: never synced). */
  operationState(name: string): ArgoOperationState | null;
  /** Argo CD's automated sync starts an operation now (e.g. it noticed the merge before we asked). */
  autoSync(name: string): void;
  /** The next matching API requests fail with this status and body, or misbehave on the wire. */
  failNext(fault: ArgoFault): void;
  /** Operations picked up from now on stay Running — an operation that never finishes — until called with false. */
  stallOperations(stalled: boolean): void;
  /** Closes the port (connections refused) or, with false, listens again on the same port. */
  setUnreachable(unreachable: boolean): Promise<void>;
  /** Resolves when every operation started so far has finished. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export async function startArgoSim(options: ArgoSimOptions): Promise<ArgoSim> {
  const apps = new ArgoApplications({ applyDelayMs: options.applyDelayMs, now: options.now });
  await apps.seed(options.applications, options.previousSyncAgoMs === undefined ? 3_600_000 : options.previousSyncAgoMs);
  const requests: LoggedRequest[] = [];
  const syncRequests: ArgoSim['syncRequests'] = [];
  const faults = new FaultQueue<ArgoFault>();
  const routes = argoRoutes({ token: options.token, apps, faults, requests, syncRequests, pickupDelayMs: options.pickupDelayMs ?? 0 });

  const server: Server = createServer((req, res) => {
    routes(req, res).catch((err: Error) => sendJson(res, 500, argoError(err.message, GRPC.internal)));
  });
  const url = await listen(server);
  const port = Number(new URL(url).port);
  let reachable = true;
  return {
    url,
    requests,
    syncRequests,
    syncCount: (name) => apps.get(name)?.syncs ?? 0,
    operationState: (name) => {
      const state = apps.named(name).operationState;
      return state ? structuredClone(state) : null;
    },
    autoSync(name) {
      const app = apps.named(name);
      if (app.operation) throw new Error(`${name}: another operation is already in progress`);
      apps.start(app, { sync: {}, initiatedBy: { automated: true } }, 0);
    },
    failNext(fault) {
      faults.add(fault);
    },
    stallOperations(stalled) {
      apps.stall(stalled);
    },
    async setUnreachable(unreachable) {
      if (unreachable === !reachable) return;
      reachable = !unreachable;
      if (unreachable) await closeServer(server);
      else await listen(server, port);
    },
    settled: () => apps.settled(),
    close: async () => {
      if (reachable) await closeServer(server);
      apps.stall(false);
      await apps.settled();
    },
  };
}
