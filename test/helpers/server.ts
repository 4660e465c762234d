/**
 * Integration tests' handle on a real Lucien server process: the shared
 * launcher (scripts/lib/server-process.ts) with the tests' defaults (a fresh
 * LevelDB directory, one engine host per language, every pool complete).
 */
import { launchServer, MAIN, type LaunchOptions, type ServerProcess } from '../../scripts/lib/server-process';
import { PACKAGE_ROOT } from '../../src/paths';

export const ROOT = PACKAGE_ROOT;
export { MAIN };

export type StartOptions = LaunchOptions;
export type RunningServer = ServerProcess;

export function startServer(options: StartOptions = {}): Promise<RunningServer> {
  return launchServer(options);
}
