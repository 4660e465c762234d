/**
 * The edge's nesting limit: values, arguments and results nested deeper than
 * LUCIEN_MAX_JSON_DEPTH are refused before anything parses or stores them.
 * The scan itself is the engines' (one linear pass, no parse, no recursion);
 * this file only names the edge's default.
 */
export { nestsDeeperThan } from '../engines/json-depth';

export const DEFAULT_MAX_JSON_DEPTH = 64;
