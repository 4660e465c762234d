/**
 * The admin page's JSON API under /api/: each route is one or a few calls of
 * Lucien's own rpcs (invoke.ts), so roles and scopes are the gRPC ones. The
 * only data read around the rpcs is the key counts of the first view, and
 * only for buckets ListBuckets showed the caller.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GetScriptStatsResponse } from '../generated/lucien/v1/GetScriptStatsResponse';
import type { ListBucketsResponse } from '../generated/lucien/v1/ListBucketsResponse';
import type { ListScriptsResponse } from '../generated/lucien/v1/ListScriptsResponse';
import type { KeyCounter } from '../observe/key-counts';
import type { Invoker, UnaryMethod } from './invoke';
import { ApiError, sendJson } from './respond';
import { serveWatch } from './sse-watch';

export interface ApiParts {
  readonly invoker: Invoker;
  readonly keys: KeyCounter;
  readonly authEnabled: boolean;
  /** Largest request body accepted (a value or a script, plus JSON framing). */
  readonly maxBodyBytes: number;
  /** Open SSE responses, ended when the server closes. */
  readonly streams: Set<ServerResponse>;
}

interface Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Decoded path segments after /api/. */
  readonly parts: readonly string[];
  readonly call: <Res>(method: UnaryMethod, request: object) => Promise<Res>;
  readonly body: () => Promise<Record<string, unknown>>;
}

const str = (v: unknown, name: string): string => {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ApiError(400, 'INVALID_ARGUMENT', `${name} must be a string`);
  return v;
};
const num = (v: unknown, name: string): number | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
    throw new ApiError(400, 'INVALID_ARGUMENT', `${name} must be a whole number`);
  return n;
};
const optionalRevision = (v: unknown): { if_revision?: number } => {
  const n = num(v, 'if_revision');
  return n === undefined ? {} : { if_revision: n };
};

async function overview(r: Request, parts: ApiParts): Promise<unknown> {
  const [{ buckets }, { scripts }, { scripts: stats }] = await Promise.all([
    r.call<ListBucketsResponse>('ListBuckets', {}),
    r.call<ListScriptsResponse>('ListScripts', {}),
    r.call<GetScriptStatsResponse>('GetScriptStats', {}),
  ]);
  const counts = new Map((await parts.keys.all()).map((c) => [c.bucket, c]));
  const byName = new Map((stats ?? []).map((s) => [s.name, s]));
  return {
    auth: parts.authEnabled,
    buckets: (buckets ?? []).map((name) => ({
      name,
      keys: counts.get(name)?.keys ?? 0,
      capped: counts.get(name)?.capped ?? false,
    })),
    scripts: (scripts ?? []).map((s) => ({
      name: s.name,
      engine: s.engine,
      description: s.description,
      revision: s.revision,
      stats: byName.get(s.name ?? '') ?? null,
    })),
  };
}

/** Routes one /api request; resolves once answered (or, for a watch, once the stream is set up). */
export async function routeApi(r: Request, parts: ApiParts): Promise<void> {
  const [head, name, sub, ...rest] = r.parts;
  const method = r.req.method ?? 'GET';
  const send = (body: unknown) => sendJson(r.res, 200, body);
  const invalidate = <T>(p: Promise<T>) => p.finally(() => parts.keys.invalidate());

  if (head === 'overview' && name === undefined && method === 'GET') return send(await overview(r, parts));
  if (head === 'stats' && name === undefined && method === 'GET')
    return send(await r.call('GetScriptStats', { name: r.url.searchParams.get('name') ?? '' }));
  if (head === 'slow-runs' && name === undefined && method === 'GET')
    return send(await r.call('GetSlowRuns', { limit: num(r.url.searchParams.get('limit'), 'limit') ?? 0 }));

  if (head === 'buckets') {
    if (name === undefined && method === 'GET') return send(await r.call('ListBuckets', {}));
    if (name !== undefined && sub === 'keys' && rest.length === 0 && method === 'GET') {
      const q = r.url.searchParams;
      return send(
        await r.call('List', {
          bucket: name,
          prefix: q.get('prefix') ?? '',
          start_after: q.get('start_after') ?? '',
          page_token: q.get('page_token') ?? '',
          limit: num(q.get('limit'), 'limit') ?? 0,
          keys_only: q.get('keys_only') === 'true',
        }),
      );
    }
    if (name !== undefined && sub === 'keys' && rest.length > 0) {
      const key = rest.join('/');
      if (method === 'GET') return send(await r.call('Get', { bucket: name, key }));
      if (method === 'PUT') {
        const body = await r.body();
        return send(
          await invalidate(
            r.call('Put', {
              bucket: name,
              key,
              value: str(body.value, 'value'),
              ...optionalRevision(body.if_revision),
            }),
          ),
        );
      }
      if (method === 'DELETE')
        return send(
          await invalidate(
            r.call('Delete', {
              bucket: name,
              key,
              ...optionalRevision(r.url.searchParams.get('if_revision') ?? undefined),
            }),
          ),
        );
    }
    if (name !== undefined && sub === 'watch' && rest.length === 0 && method === 'GET') {
      const q = r.url.searchParams;
      serveWatch(
        parts.invoker,
        r.req,
        r.res,
        {
          bucket: name,
          prefix: q.get('prefix') ?? '',
          start_revision: num(q.get('start_revision'), 'start_revision') ?? 0,
        },
        parts.streams,
      );
      return;
    }
  }

  if (head === 'scripts') {
    if (name === undefined && method === 'GET') return send(await r.call('ListScripts', {}));
    if (name !== undefined && sub === undefined) {
      if (method === 'GET') {
        const [script, stats] = await Promise.all([
          r.call('GetScript', { name }),
          r.call<GetScriptStatsResponse>('GetScriptStats', { name }),
        ]);
        return send({ script, stats: stats.scripts?.[0] ?? null });
      }
      if (method === 'PUT') {
        const body = await r.body();
        const draft = {
          name,
          engine: str(body.engine, 'engine'),
          source: str(body.source, 'source'),
          description: str(body.description, 'description'),
          ...optionalRevision(body.if_revision),
        };
        return send(await invalidate(r.call('PutScript', draft)));
      }
      if (method === 'DELETE') return send(await invalidate(r.call('DeleteScript', { name })));
    }
    if (name !== undefined && sub === 'run' && rest.length === 0 && method === 'POST') {
      const body = await r.body();
      const args = body.args === undefined ? '' : typeof body.args === 'string' ? body.args : JSON.stringify(body.args);
      const request = {
        name,
        args,
        dry_run: body.dry_run === true,
        timeout_ms: num(body.timeout_ms, 'timeout_ms') ?? 0,
      };
      return send(await invalidate(r.call('Run', request)));
    }
  }
  throw new ApiError(404, 'NOT_FOUND', `no route ${method} /api/${r.parts.map(encodeURIComponent).join('/')}`);
}

/** Splits /api/a/b%2Fc into ['a', 'b/c']; a bad escape is a 400. */
export function apiSegments(pathname: string): string[] {
  try {
    return pathname
      .slice('/api/'.length)
      .split('/')
      .filter((s, i, all) => !(s === '' && i === all.length - 1))
      .map((s) => decodeURIComponent(s));
  } catch {
    throw new ApiError(400, 'INVALID_ARGUMENT', 'malformed percent-encoding in the path');
  }
}

export type { Request as ApiRequest };
