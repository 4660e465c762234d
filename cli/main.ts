/**
 * The `lucien` command: finds the command in argv, parses its options with
 * node:util parseArgs (global options anywhere), prints --help, builds the
 * client from flags and LUCIEN_SERVER / LUCIEN_TOKEN, runs the command and
 * turns failures into exit codes: 1 with "lucien: CODE: message" for a
 * failed call, 2 with the usage line for a mistake in the command line.
 * This file is the CLI's only reader of argv and the environment.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_ADDRESS, isLucienClientError, LucienClient, type ClientOptions } from '../clients/typescript';
import {
  type Command,
  type CommandContext,
  GLOBAL_HELP,
  GLOBAL_OPTIONS,
  intOption,
  UsageError,
  type Values,
} from './command';
import { buckets, count, del, get, ls, put } from './commands/kv';
import { evalCommand, run, scriptsGet, scriptsLs, scriptsPush, scriptsRm } from './commands/scripts';
import { exportCommand, importCommand } from './commands/dump';
import { watch } from './commands/watch';
import { processOutput } from './output';

const COMMANDS: readonly Command[] = [
  get,
  put,
  del,
  ls,
  buckets,
  count,
  run,
  evalCommand,
  scriptsLs,
  scriptsGet,
  scriptsPush,
  scriptsRm,
  watch,
  exportCommand,
  importCommand,
];

function optionLines(
  options: Record<string, { type: string; short?: string }>,
  help: Record<string, string>,
): string[] {
  return Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short !== undefined ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ' VALUE' : ''}`;
    return `  ${flag.padEnd(28)} ${help[name] ?? ''}`;
  });
}

function globalHelp(): string {
  return [
    'Usage: lucien [options] COMMAND [ARGS]',
    '',
    'The command-line client of Lucien, a key-value store with stored procedures.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${`${c.name} ${c.args}`.padEnd(34)} ${c.summary}`),
    '',
    'Options (every command):',
    ...optionLines(GLOBAL_OPTIONS, GLOBAL_HELP),
    '',
    "Run `lucien COMMAND --help` for a command's options. Exit codes: 0 ok, 1 the call failed",
    '(stderr names the error code), 2 a mistake in the command line.',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [
    `Usage: lucien ${c.name} [options]${c.args === '' ? '' : ` ${c.args}`}`,
    '',
    `${c.summary[0]?.toUpperCase()}${c.summary.slice(1)}.`,
    ...(c.details ?? []),
    ...(c.options !== undefined
      ? ['', 'Options:', ...optionLines(c.options as Record<string, { type: string; short?: string }>, c.help ?? {})]
      : []),
    '',
    'Global options: --server, --token, --tls, --tls-ca, --tls-cert, --tls-key, --tls-server-name, --deadline-ms, --no-retry, --json (see lucien --help).',
  ].join('\n');
}

/** Finds the command words, skipping global options and their values. */
function findCommand(argv: readonly string[]): { command: Command | undefined; words: number[]; unknown?: string } {
  const takesValue = new Set(
    Object.entries(GLOBAL_OPTIONS)
      .filter(([, s]) => s.type === 'string')
      .flatMap(([n, s]) => [`--${n}`, ...('short' in s ? [`-${s.short}`] : [])]),
  );
  const positions: number[] = [];
  for (let i = 0; i < argv.length && positions.length < 2; i++) {
    const arg = argv[i] as string;
    if (arg === '--') break;
    if (arg.startsWith('-')) {
      if (takesValue.has(arg)) i++;
      continue;
    }
    positions.push(i);
    if (positions.length === 1 && arg !== 'scripts') break;
  }
  const words = positions.map((i) => argv[i] as string);
  const name = words.join(' ');
  const command = COMMANDS.find((c) => c.name === name);
  return { command, words: positions, unknown: command === undefined && words.length > 0 ? name : undefined };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function readPem(values: Values, name: string): Buffer | undefined {
  const path = values[name] as string | undefined;
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(
      `--${name}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

function clientOptions(values: Values, env: NodeJS.ProcessEnv): ClientOptions {
  const ca = readPem(values, 'tls-ca');
  const cert = readPem(values, 'tls-cert');
  const key = readPem(values, 'tls-key');
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const tls =
    values.tls === true || ca !== undefined || cert !== undefined
      ? { ca, cert, key, serverName: values['tls-server-name'] as string | undefined }
      : undefined;
  return {
    address: (values.server as string | undefined) ?? (env.LUCIEN_SERVER || DEFAULT_ADDRESS),
    token: (values.token as string | undefined) ?? (env.LUCIEN_TOKEN || undefined),
    tls,
    deadlineMs: intOption(values, 'deadline-ms'),
    retry: values['no-retry'] === true ? false : undefined,
  };
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const forceJson = argv.includes('--json');
  const output = processOutput(forceJson);
  const { command, words, unknown } = findCommand(argv);
  if (command === undefined) {
    if (unknown !== undefined) {
      output.err(`lucien: unknown command "${unknown}" (lucien --help lists the commands)`);
      return 2;
    }
    const helpAsked = argv.includes('--help') || argv.includes('-h');
    (helpAsked ? output.out : output.err)(globalHelp());
    return helpAsked ? 0 : 2;
  }
  const rest = argv.filter((_, i) => !words.includes(i));
  let client: LucienClient | undefined;
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...rest],
        options: { ...GLOBAL_OPTIONS, ...(command.options ?? {}) },
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const values = parsed.values as Values;
    if (values.help === true) {
      output.out(commandHelp(command));
      return 0;
    }
    const { positionals } = parsed;
    if (positionals.length < command.minArgs || positionals.length > command.maxArgs) {
      throw new UsageError(
        `${command.name} takes ${command.args === '' ? 'no arguments' : command.args}, got ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(' ')}`,
      );
    }
    const options = clientOptions(values, env);
    const context: CommandContext = {
      client: () => (client ??= new LucienClient(options)),
      output,
      server: options.address ?? DEFAULT_ADDRESS,
      values,
      positionals,
      stdin: readStdin,
    };
    return (await command.run(context)) ?? 0;
  } catch (err) {
    if (err instanceof UsageError || (isLucienClientError(err) && err.code === 'CLIENT_INVALID_ARGUMENT')) {
      output.err(
        `lucien ${command.name}: ${err.message}\nUsage: lucien ${command.name} [options] ${command.args}   (lucien ${command.name} --help)`,
      );
      return 2;
    }
    if (isLucienClientError(err)) {
      for (const line of err.logs) output.err(line);
      output.err(
        `lucien: ${err.message}${err.line !== undefined && !err.message.includes(`line ${err.line}`) ? ` (line ${err.line})` : ''}`,
      );
      return 1;
    }
    throw err;
  } finally {
    client?.close();
  }
}

/** Runs the CLI on this process's argv and environment, setting the exit code. */
export function runCli(): void {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(
        `lucien: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exitCode = 70;
    },
  );
}

if (require.main === module) runCli();
