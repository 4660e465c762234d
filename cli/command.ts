/**
 * The shape of a CLI command, the global options every command takes, and
 * the usage error. Commands declare their options for node:util parseArgs
 * and their positionals; main.ts parses, prints --help, and runs them.
 */
import type { ParseArgsConfig } from 'node:util';
import type { LucienClient } from '../clients/typescript';
import type { Output } from './output';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  /** Made on first use, so --help and usage errors never connect. */
  client(): LucienClient;
  readonly output: Output;
  /** The server address in use (for per-server state such as pushed script revisions). */
  readonly server: string;
  readonly values: Values;
  readonly positionals: readonly string[];
  /** Standard input as text (for `-` arguments). */
  stdin(): Promise<string>;
}

export interface Command {
  /** e.g. "get" or "scripts push". */
  readonly name: string;
  /** e.g. "BUCKET KEY". */
  readonly args: string;
  readonly summary: string;
  /** Extra lines of --help (options are listed from `help`). */
  readonly details?: readonly string[];
  readonly options?: OptionSpec;
  /** Help text per option name. */
  readonly help?: Record<string, string>;
  readonly minArgs: number;
  readonly maxArgs: number;
  run(context: CommandContext): Promise<number | void>;
}

/** A mistake in how the command was called: exit code 2, with the usage line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const GLOBAL_OPTIONS = {
  server: { type: 'string', short: 's' },
  token: { type: 'string' },
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-server-name': { type: 'string' },
  'deadline-ms': { type: 'string' },
  'no-retry': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export const GLOBAL_HELP: Record<keyof typeof GLOBAL_OPTIONS, string> = {
  server: 'host:port of the server (env LUCIEN_SERVER; default 127.0.0.1:50051)',
  token: 'bearer token (env LUCIEN_TOKEN)',
  tls: 'speak TLS, trusting the system roots',
  'tls-ca': 'PEM file of the CA that signed the server certificate (implies --tls)',
  'tls-cert': 'PEM file of a client certificate (with --tls-key)',
  'tls-key': 'PEM file of the client certificate key',
  'tls-server-name': 'name to expect in the server certificate',
  'deadline-ms': 'deadline of each call in ms (default 30000)',
  'no-retry': 'do not retry UNAVAILABLE / CONFLICT / SCRIPT_TIMEOUT failures',
  json: 'one-line JSON output even on a terminal',
  help: 'show help',
};

/** A positive integer flag, or a UsageError naming it. */
export function intOption(values: Values, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

/** A JSON argument, or a UsageError that says how to quote it. */
export function jsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(
      `${what} is not JSON: ${text.slice(0, 80)} (quote strings for the shell, e.g. '"${text.slice(0, 20)}"')`,
    );
  }
}
