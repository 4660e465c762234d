/**
 * Script management: scripts are data in the `_scripts` bucket, stored in the
 * seed's shape {"engine": …, "script": …} (plus an optional description), so
 * a seed client's Put into `_scripts` and PutScript are one path with one
 * validation: known engine, compiles in that engine (syntax errors name the
 * line), then written with the caller's if_revision.
 */
import { LucienError } from '../errors';
import type { Store } from '../storage/store';
import { SCRIPTS_BUCKET } from '../storage/validate';
import type { EngineRegistry } from './script-engine';

export interface Script {
  readonly name: string;
  readonly engine: string;
  readonly source: string;
  readonly description: string;
  readonly revision: number;
}

export interface ScriptDraft {
  readonly name: string;
  readonly engine: string;
  readonly source: string;
  readonly description: string;
  readonly ifRevision?: number;
}

/** The compiled-script cache key: changes whenever the script does. */
export function scriptKey(script: Script): string {
  return `${script.name}@${script.revision}`;
}

const SCRIPT_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

export class ScriptCatalog {
  /**
   * Scripts by name, so a Run does not read and parse `_scripts` each time.
   * Every change to `_scripts` (from this server, or another sharing the
   * backend) clears it; the generation stops a read that raced a change from
   * caching what it read.
   */
  private readonly cache = new Map<string, Script>();
  private generation = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Store,
    private readonly engines: EngineRegistry,
    /** Largest source PutScript accepts (LUCIEN_MAX_SCRIPT_BYTES). */
    private readonly maxScriptBytes: number,
  ) {
    this.unsubscribe = store.space.subscribe(SCRIPTS_BUCKET, () => this.invalidate());
  }

  close(): void {
    this.unsubscribe();
  }

  private invalidate(): void {
    this.generation++;
    this.cache.clear();
  }

  async put(draft: ScriptDraft): Promise<number> {
    checkName(draft.name);
    const engine = this.engines.get(draft.engine);
    if (engine === undefined) {
      throw new LucienError(
        'INVALID_ARGUMENT',
        `unknown engine ${JSON.stringify(draft.engine)}: use one of ${this.engines.names.join(', ')}`,
      );
    }
    if (draft.source.trim() === '') throw new LucienError('INVALID_ARGUMENT', 'script source is empty');
    const bytes = Buffer.byteLength(draft.source, 'utf8');
    if (bytes > this.maxScriptBytes)
      throw new LucienError('INVALID_ARGUMENT', `script source is ${bytes} bytes; the limit is ${this.maxScriptBytes}`);
    await engine.validate(draft.name, draft.source);
    // The seed's shape exactly; a description only when there is one.
    const value = JSON.stringify(
      draft.description === ''
        ? { engine: draft.engine, script: draft.source }
        : { engine: draft.engine, script: draft.source, description: draft.description },
    );
    try {
      return await this.store.put(SCRIPTS_BUCKET, draft.name, value, draft.ifRevision, { system: true });
    } finally {
      this.invalidate();
    }
  }

  /** The seed's way: Put into `_scripts` of {"engine": …, "script": …}. */
  async putValue(name: string, valueText: string, ifRevision?: number): Promise<number> {
    let value: unknown;
    try {
      value = JSON.parse(valueText);
    } catch (err) {
      throw new LucienError('INVALID_VALUE', `value is not valid JSON: ${(err as Error).message}`);
    }
    const { engine, script, description } = (
      typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}
    ) as Record<string, unknown>;
    if (typeof engine !== 'string' || typeof script !== 'string') {
      throw new LucienError(
        'INVALID_VALUE',
        'a value in _scripts must be an object {"engine": "python" | "javascript", "script": "<source>"}',
      );
    }
    if (description !== undefined && typeof description !== 'string')
      throw new LucienError('INVALID_VALUE', '"description" must be a string');
    return this.put({ name, engine, source: script, description: description ?? '', ifRevision });
  }

  async get(name: string): Promise<Script> {
    checkName(name);
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    const generation = this.generation;
    try {
      const kv = await this.store.get(SCRIPTS_BUCKET, name);
      const script = decodeScript(name, kv.value, kv.modRevision);
      if (generation === this.generation) this.cache.set(name, script);
      return script;
    } catch (err) {
      if ((err as LucienError).code === 'NOT_FOUND') throw new LucienError('NOT_FOUND', `script "${name}" not found`);
      throw err;
    }
  }

  async list(): Promise<Script[]> {
    const scripts: Script[] = [];
    let startAfter = '';
    for (;;) {
      const page = await this.store.list(SCRIPTS_BUCKET, { prefix: '', startAfter, limit: 1000, keysOnly: false });
      for (const kv of page.items) scripts.push(decodeScript(kv.key, kv.value, kv.modRevision));
      if (!page.more) return scripts;
      startAfter = (page.items[page.items.length - 1] as { key: string }).key;
    }
  }

  async delete(name: string, ifRevision?: number): Promise<boolean> {
    checkName(name);
    try {
      const { deleted } = await this.store.delete(SCRIPTS_BUCKET, name, ifRevision, { system: true });
      return deleted;
    } finally {
      this.invalidate();
    }
  }
}

function checkName(name: string): void {
  if (!SCRIPT_NAME.test(name)) {
    throw new LucienError(
      'INVALID_ARGUMENT',
      `invalid script name ${JSON.stringify(name.slice(0, 140))}: use 1-128 characters of [A-Za-z0-9_.:-]`,
    );
  }
}

/** A `_scripts` value as a Script (also used by Export, which reads `_scripts` from its snapshot). */
export function decodeScript(name: string, valueText: string, revision: number): Script {
  const value = JSON.parse(valueText) as { engine?: unknown; script?: unknown; description?: unknown };
  return {
    name,
    engine: String(value.engine ?? ''),
    source: String(value.script ?? ''),
    description: typeof value.description === 'string' ? value.description : '',
    revision,
  };
}
