/**
 * A typed, promise-based grpc-js client for integration tests, built from
 * the same proto the server serves. Errors keep their gRPC code, message and
 * the `lucien-error-code` trailer so tests can assert all three.
 */
import * as grpc from '@grpc/grpc-js';
import type { LucienClient } from '../../src/generated/lucien/v1/Lucien';
import { proto } from '../../src/server/proto';

export interface CallError extends Error {
  readonly code: grpc.status;
  readonly details: string;
  readonly metadata: grpc.Metadata;
}

export interface TestClient {
  raw: LucienClient;
  /** One unary call; the client's deadline is `deadlineMs` from now (default 30 s). */
  call<Res = Record<string, unknown>>(
    method: string,
    request: object,
    metadata?: grpc.Metadata,
    deadlineMs?: number,
  ): Promise<Res>;
  close(): void;
}

export function connect(address: string, credentials = grpc.credentials.createInsecure()): TestClient {
  const raw = new proto.lucien.v1.Lucien(address, credentials) as LucienClient;
  return {
    raw,
    call<Res>(method: string, request: object, metadata = new grpc.Metadata(), deadlineMs = 30000): Promise<Res> {
      const fn = (
        raw as unknown as Record<
          string,
          (
            req: object,
            md: grpc.Metadata,
            opts: grpc.CallOptions,
            cb: (err: grpc.ServiceError | null, res: Res) => void,
          ) => void
        >
      )[method];
      if (typeof fn !== 'function') throw new Error(`no method ${method}`);
      return new Promise((resolve, reject) => {
        fn.call(raw, request, metadata, { deadline: Date.now() + deadlineMs }, (err, res) =>
          err ? reject(err) : resolve(res),
        );
      });
    },
    close: () => raw.close(),
  };
}

/** Awaits a call expected to fail; returns the error for assertions. */
export async function failure(promise: Promise<unknown>): Promise<CallError> {
  try {
    await promise;
  } catch (err) {
    return err as CallError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export function errorCode(err: CallError): string | undefined {
  const value = err.metadata?.get('lucien-error-code')[0];
  return typeof value === 'string' ? value : undefined;
}

/** A Watch event as the tests read it. */
export type WatchEvent = { type: string; bucket: string; key: string; value: string; revision: number };

/** Opens a Watch and collects it: its events, when it ends, and the error it ended with (if any). */
export function watchStream(client: TestClient, request: object, metadata = new grpc.Metadata()) {
  const events: WatchEvent[] = [];
  const stream = (
    client.raw as unknown as { Watch(req: object, md: grpc.Metadata): grpc.ClientReadableStream<WatchEvent> }
  ).Watch(request, metadata);
  let error: grpc.ServiceError | undefined;
  const ended = new Promise<void>((resolve) => {
    stream.on('error', (err: grpc.ServiceError) => {
      error = err;
      resolve();
    });
    stream.on('end', () => resolve());
  });
  stream.on('data', (e: WatchEvent) => events.push(e));
  return { events, stream, ended, error: () => error };
}
