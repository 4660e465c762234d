/**
 * Script commands: run, eval, and scripts ls|get|push|rm. `push` registers
 * files or folders of .py/.js files (name from the file name, engine from
 * the extension), reports syntax errors as file:line: message, and remembers
 * the revision it pushed (in .lucien-revisions.json beside the files) so
 * that --if-unchanged refuses to overwrite a script someone else changed.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { isLucienClientError, type RunResult, type ScriptInfo } from '../../clients/typescript';
import { type Command, type CommandContext, intOption, jsonArg, UsageError } from '../command';
import { json, type Output, printRows, printValue } from '../output';

const ENGINES: Record<string, string> = { '.py': 'python', '.js': 'javascript' };
const STATE_FILE = '.lucien-revisions.json';

function printRun(output: Output, out: RunResult, dryRun: boolean, full: boolean): void {
  for (const line of out.logs) output.err(line);
  if (full) {
    output.out(
      json(
        output,
        `{"result":${out.resultText},"logs":${JSON.stringify(out.logs)},"revision":${out.revision},"attempts":${out.attempts},"writes":${JSON.stringify(out.writes)}}`,
      ),
    );
    return;
  }
  output.out(json(output, out.resultText));
  if (dryRun && out.writes.length > 0) {
    output.err(
      `dry run: ${out.writes.length} write${out.writes.length === 1 ? '' : 's'} not committed${out.writes.length > 0 ? ':' : ''}`,
    );
    for (const w of out.writes)
      output.err(
        JSON.stringify(
          w.deleted
            ? { delete: { bucket: w.bucket, key: w.key } }
            : { put: { bucket: w.bucket, key: w.key, value: w.value } },
        ),
      );
  }
}

const parseArgsJson = (texts: readonly string[]): unknown[] => texts.map((t, i) => jsonArg(t, `argument ${i + 1}`));

export const run: Command = {
  name: 'run',
  args: 'NAME [ARGS_JSON…]',
  summary: 'run a registered script; result on stdout as JSON, logs on stderr',
  details: ['Each ARGS_JSON is one argument, as JSON: lucien run render_post \'"post_1"\' 3'],
  options: { 'dry-run': { type: 'boolean', short: 'n' }, 'timeout-ms': { type: 'string' }, full: { type: 'boolean' } },
  help: {
    'dry-run': 'commit nothing; print the writes it would make on stderr',
    'timeout-ms': "the script's time limit",
    full: 'print {result, logs, revision, attempts, writes} on stdout',
  },
  minArgs: 1,
  maxArgs: Infinity,
  async run({ client, output, positionals, values }) {
    const [name, ...rest] = positionals as [string, ...string[]];
    const dryRun = values['dry-run'] === true;
    const out = await client().run(name, parseArgsJson(rest), {
      dryRun,
      timeoutMs: intOption(values, 'timeout-ms', 1),
    });
    printRun(output, out, dryRun, values.full === true);
  },
};

export const evalCommand: Command = {
  name: 'eval',
  args: 'FILE|- [ARGS_JSON…]',
  summary: 'run source without registering it (admin); a dry run unless --commit',
  details: ['The engine comes from the extension (.js: javascript, else python) unless --engine says.'],
  options: {
    engine: { type: 'string', short: 'e' },
    commit: { type: 'boolean' },
    'timeout-ms': { type: 'string' },
    full: { type: 'boolean' },
  },
  help: {
    engine: 'python or javascript',
    commit: 'commit the writes',
    'timeout-ms': 'the time limit',
    full: 'print {result, logs, revision, attempts, writes} on stdout',
  },
  minArgs: 1,
  maxArgs: Infinity,
  async run({ client, output, positionals, values, stdin }) {
    const [file, ...rest] = positionals as [string, ...string[]];
    const source = file === '-' ? await stdin() : readSource(file);
    const engine = (values.engine as string | undefined) ?? ENGINES[extname(file)] ?? 'python';
    const commit = values.commit === true;
    try {
      printRun(
        output,
        await client().eval(source, parseArgsJson(rest), {
          engine,
          commit,
          timeoutMs: intOption(values, 'timeout-ms', 1),
        }),
        !commit,
        values.full === true,
      );
    } catch (err) {
      if (isLucienClientError(err) && err.code === 'SCRIPT_SYNTAX') {
        output.err(`${file === '-' ? '<stdin>' : file}:${err.line ?? '?'}: ${syntaxMessage(err.message)}`);
        return 1;
      }
      throw err;
    }
  },
};

function readSource(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** "SCRIPT_SYNTAX: script "x" does not compile: SyntaxError: bad (line 3)" -> "SyntaxError: bad". */
function syntaxMessage(message: string): string {
  const text = message.replace(/^SCRIPT_SYNTAX: /, '').replace(/^script "[^"]*" does not compile: /, '');
  return text.replace(/ \(line \d+\)$/, '');
}

type State = Record<string, Record<string, number>>;
function readState(dir: string): State {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as State;
  } catch {
    throw new UsageError(`${path} is not valid JSON; delete it to start over`);
  }
}
function remember(dir: string, server: string, name: string, revision: number): void {
  const state = readState(dir);
  state[server] = { ...(state[server] ?? {}), [name]: revision };
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
}

/** The files a push means: files as given, folders as their .py/.js files (sorted, not recursive). */
function scriptFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new UsageError(`${path}: no such file or folder`);
    }
    if (stat.isDirectory()) {
      const found = readdirSync(path)
        .filter((f) => ENGINES[extname(f)] !== undefined)
        .sort();
      if (found.length === 0) throw new UsageError(`${path}: no .py or .js files in this folder`);
      files.push(...found.map((f) => join(path, f)));
    } else if (ENGINES[extname(path)] === undefined) {
      throw new UsageError(`${path}: a script file must end in .py or .js`);
    } else {
      files.push(path);
    }
  }
  return files;
}

async function push(context: CommandContext): Promise<number> {
  const { client, output, values, server } = context;
  const ifUnchanged = values['if-unchanged'] === true;
  let failed = 0;
  const files = scriptFiles(context.positionals);
  const byName = new Map<string, string>();
  for (const file of files) {
    const name = basename(file, extname(file));
    const other = byName.get(name);
    if (other !== undefined)
      throw new UsageError(`${other} and ${file} would both be script "${name}"; push them separately`);
    byName.set(name, file);
  }
  for (const file of files) {
    const name = basename(file, extname(file));
    const dir = dirname(resolve(file));
    const ifRevision = ifUnchanged ? (readState(dir)[server]?.[name] ?? 0) : undefined;
    try {
      const revision = await client().putScript(name, readFileSync(file, 'utf8'), {
        engine: ENGINES[extname(file)],
        description: values.description as string | undefined,
        ifRevision,
      });
      remember(dir, server, name, revision);
      output.err(`pushed ${name} (${ENGINES[extname(file)]}) from ${file}: revision ${revision}`);
    } catch (err) {
      if (!isLucienClientError(err)) throw err;
      failed++;
      if (err.code === 'SCRIPT_SYNTAX') output.err(`${file}:${err.line ?? '?'}: ${syntaxMessage(err.message)}`);
      else if (err.code === 'CONDITION_FAILED') {
        output.err(
          `${file}: ${name} changed on the server since revision ${ifRevision === 0 ? '(none: it did not exist)' : ifRevision} that this folder last saw; not pushed. Fetch it with: lucien scripts get ${name} -o ${file}`,
        );
      } else output.err(`${file}: ${err.message}`);
    }
  }
  return failed > 0 ? 1 : 0;
}

export const scriptsLs: Command = {
  name: 'scripts ls',
  args: '',
  summary: 'list registered scripts',
  minArgs: 0,
  maxArgs: 0,
  async run({ client, output }) {
    const scripts = await client().listScripts();
    await printRows(
      output,
      scripts,
      [
        { title: 'NAME', cell: (s: ScriptInfo) => s.name },
        { title: 'ENGINE', cell: (s: ScriptInfo) => s.engine },
        { title: 'REVISION', cell: (s: ScriptInfo) => String(s.revision) },
        { title: 'DESCRIPTION', cell: (s: ScriptInfo) => s.description, flexible: true },
      ],
      (s) => JSON.stringify({ name: s.name, engine: s.engine, revision: s.revision, description: s.description }),
    );
  },
};

export const scriptsGet: Command = {
  name: 'scripts get',
  args: 'NAME',
  summary: "print a script's source (or write it to a file, remembering its revision for push --if-unchanged)",
  options: { output: { type: 'string', short: 'o' }, meta: { type: 'boolean' } },
  help: { output: 'write the source to FILE', meta: 'print {name, engine, revision, description, source} as JSON' },
  minArgs: 1,
  maxArgs: 1,
  async run({ client, output, positionals, values, server }) {
    const name = positionals[0] as string;
    const script = await client().getScript(name);
    if (script === undefined) {
      output.err(`lucien: NOT_FOUND: script "${name}" not found`);
      return 1;
    }
    if (values.meta === true) return printValue(output, script);
    const file = values.output as string | undefined;
    if (file === undefined)
      return void process.stdout.write(script.source.endsWith('\n') ? script.source : script.source + '\n');
    writeFileSync(file, script.source);
    remember(dirname(resolve(file)), server, name, script.revision);
    output.err(`wrote ${file} (${script.engine}, revision ${script.revision})`);
  },
};

export const scriptsPush: Command = {
  name: 'scripts push',
  args: 'PATH…',
  summary: 'register .py/.js files, or every such file of a folder (name from the file name)',
  details: ['Syntax errors are reported as file:line: message; the exit code is 1 if any file failed.'],
  options: { 'if-unchanged': { type: 'boolean' }, description: { type: 'string', short: 'd' } },
  help: {
    'if-unchanged': 'refuse to overwrite a script changed since the revision this folder last pushed or fetched',
    description: 'description to store',
  },
  minArgs: 1,
  maxArgs: Infinity,
  run: push,
};

export const scriptsRm: Command = {
  name: 'scripts rm',
  args: 'NAME',
  summary: 'delete a script',
  minArgs: 1,
  maxArgs: 1,
  async run({ client, output, positionals }) {
    printValue(output, { deleted: await client().deleteScript(positionals[0] as string) });
  },
};
