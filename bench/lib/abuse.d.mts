// Types for bench/lib/abuse.mjs (plain Node ESM), so test/unit/adversary/hub-abuse.test.ts is checked.
import type { Socket } from 'node:net';

export interface TrackedSocket {
  socket: Socket;
  status: number | null;
  closed: boolean;
  error: string | null;
  head: string;
}
export interface Flood {
  halfOpen: TrackedSocket[];
  registrationsSmall: TrackedSocket[];
  registrationsLarge: TrackedSocket[];
  forgedPushes: TrackedSocket[];
  unknownKeyPushes: TrackedSocket[];
}
export interface Summary {
  total: number;
  statuses: Record<string, number>;
  closedSilently: number;
  open: number;
}
export interface SignedResult {
  kind: string;
  ok: boolean;
  ms: number;
  error?: string;
}
export interface ProbeClients {
  agent: { status(): Promise<{ status: string }>; createIntent(input: object): Promise<{ status: string }> };
  device: { pendingIntents(): Promise<unknown[]> };
}
export declare function rssBytes(pid: number): number | null;
export declare function percentile(values: number[], p: number): number;
export declare function openHalfOpen(url: string, count: number): Promise<TrackedSocket[]>;
export declare function openStalledUploads(
  url: string,
  options: {
    count: number;
    method?: string;
    path: string;
    declared: number;
    send: number;
    headers?: () => Record<string, string>;
  },
): Promise<TrackedSocket[]>;
export declare function answeredOrClosed(sockets: TrackedSocket[], maxMs: number): Promise<void>;
export declare function flushed(sockets: TrackedSocket[], maxMs: number): Promise<void>;
export declare function floodAndSettle(
  url: string,
  options: { deviceKeyId: string; randomId: (bytes: number) => string },
): Promise<Flood>;
export declare function summarize(sockets: TrackedSocket[]): Summary;
export declare function closeAll(groups: Iterable<TrackedSocket[]>): void;
export declare function startFlood(
  url: string,
  options: { deviceKeyId: string; randomId: (bytes: number) => string },
): Promise<Flood>;
export declare function signedRequests(
  clients: ProbeClients,
  options: { count: number; lanes?: number; tag: string },
): Promise<SignedResult[]>;
export declare function enrolledDevice<A>(
  url: string,
  enrollmentCode: string,
  lib: Record<string, unknown>,
  fetch: (url: string, init?: RequestInit) => Promise<Response>,
): Promise<{
  device: { pendingIntents(): Promise<unknown[]> };
  deviceKeyId: string;
  claimedAgent(): Promise<A>;
}>;
