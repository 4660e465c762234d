/**
 * Entry of the JavaScript engine host process (dist/engines/javascript/host.js).
 * Started by the server through src/procedures/host-process.ts with the flags of
 * spec.ts; must stay this small: everything else loads from engine.ts.
 */
import { runHost } from '../host/run-host';
import { JavaScriptEngine } from './javascript-engine';

runHost(new JavaScriptEngine());
