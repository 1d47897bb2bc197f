/**
 * A scenario's events, written to the real API server as the components that report them would:
 * core/v1 Events (`count`, `firstTimestamp`, `lastTimestamp`, `source`) about the real objects of the
 * namespace, with their uids. `events.k8s.io/v1` events (a `series` instead of a count, `eventTime`
 * and no `lastTimestamp`) are written by `seriesEvent`, the shape newer controllers emit.
 */
import { CoreV1Api, EventsV1Api, type CoreV1Event, type EventsV1Event, type KubeConfig, type V1ObjectReference } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { ScenarioEvent } from '../../sim/scenario';

export interface ObjectRef {
  kind: string;
  name: string;
  uid?: string;
  apiVersion?: string;
}

const API_VERSIONS: Record<string, string> = { Pod: 'v1', Deployment: 'apps/v1', ReplicaSet: 'apps/v1', KafkaUser: 'kafka.strimzi.io/v1beta2' };
const REPORTERS: Record<string, string> = { Pod: 'kubelet', Deployment: 'deployment-controller', ReplicaSet: 'replicaset-controller', KafkaUser: 'strimzi-user-operator' };

const reference = (namespace: string, ref: ObjectRef): V1ObjectReference => ({
  kind: ref.kind,
  name: ref.name,
  namespace,
  ...(ref.uid ? { uid: ref.uid } : {}),
  apiVersion: ref.apiVersion ?? API_VERSIONS[ref.kind] ?? 'v1',
});

const eventName = (ref: ObjectRef) => `${ref.name}.${randomBytes(8).toString('hex')}`;

/**
 * A MicroTime as the API server parses it (six fractional digits). client-node would send a Date
 * with three, which the server refuses; a string passes its serializer unchanged.
 */
const microTime = (at: Date): Date => at.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;

/** A core/v1 Event as a scenario describes it, `secondsAgo` before `now`, repeated `count` times 30 s apart. */
export function legacyEvent(namespace: string, ref: ObjectRef, event: Omit<ScenarioEvent, 'object' | 'api'>, now: Date): CoreV1Event {
  const last = new Date(now.getTime() - event.secondsAgo * 1000);
  const first = new Date(last.getTime() - (event.count - 1) * 30_000);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: eventName(ref), namespace },
    involvedObject: reference(namespace, ref),
    type: event.type,
    reason: event.reason,
    message: event.message,
    count: event.count,
    firstTimestamp: first,
    lastTimestamp: last,
    source: { component: REPORTERS[ref.kind] ?? 'agentruns-test', ...(ref.kind === 'Pod' ? { host: 'agentruns-test-kubelet' } : {}) },
  };
}

/** An events.k8s.io/v1 Event with a series: `count` occurrences, the last `secondsAgo` before `now`. */
export function seriesEvent(
  namespace: string,
  ref: ObjectRef,
  event: { type: 'Normal' | 'Warning'; reason: string; note: string; count: number; secondsAgo: number; firstSecondsAgo?: number },
  now: Date,
): EventsV1Event {
  const last = new Date(now.getTime() - event.secondsAgo * 1000);
  const first = new Date(now.getTime() - (event.firstSecondsAgo ?? event.secondsAgo + event.count * 10) * 1000);
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: eventName(ref), namespace },
    eventTime: microTime(first),
    // The API server refuses a series of fewer than two occurrences.
    ...(event.count > 1 ? { series: { count: event.count, lastObservedTime: microTime(last) } } : {}),
    reportingController: `agentruns.test/${REPORTERS[ref.kind] ?? 'controller'}`,
    reportingInstance: 'agentruns-test',
    action: 'Probing',
    reason: event.reason,
    note: event.note,
    type: event.type,
    regarding: reference(namespace, ref),
  };
}

export async function createEvents(kc: KubeConfig, namespace: string, events: CoreV1Event[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const body of events) await core.createNamespacedEvent({ namespace, body });
}

export async function createSeriesEvents(kc: KubeConfig, namespace: string, events: EventsV1Event[]): Promise<void> {
  const api = kc.makeApiClient(EventsV1Api);
  for (const body of events) await api.createNamespacedEvent({ namespace, body });
}
