/**
 * `${{ }}` as GitHub evaluates it, with GitHub's own lexer, parser and evaluator
 * (@actions/expressions) over the template tokens @actions/workflow-parser produced. Nothing here
 * parses an expression by hand: a string with embedded expressions already arrives as one
 * `format('…{0}…', …)` expression token from the workflow parser.
 */
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import type { FunctionDefinition } from '@actions/expressions/funcs/info';
import { isBasicExpression, isBoolean, isMapping, isNumber, isSequence, isString } from '@actions/workflow-parser';
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token';
import { UnsupportedConstruct } from './errors.js';

/** Plain JSON values: what contexts hold and what evaluation returns. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** The contexts an expression may read (`github`, `inputs`, `needs`, …), as plain JSON. */
export type Contexts = Record<string, Json>;

/** The job or step status that success(), failure() and always() answer from (nothing is ever cancelled here). */
export interface Status {
  /** Whether everything before succeeded: every needed job (a skipped one does not), or every earlier step. */
  success: boolean;
  /** Whether something before failed: an earlier step, or any ancestor job (not merely a skipped need). */
  failed: boolean;
}

export interface EvaluationScope {
  contexts: Contexts;
  status?: Status;
  /** The file the tokens came from, for errors. */
  file: string;
}

function statusFunctions(status: Status): Map<string, FunctionDefinition> {
  const fn = (name: string, call: () => boolean): [string, FunctionDefinition] => [
    name,
    { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(call()) },
  ];
  return new Map([
    fn('success', () => status.success),
    fn('failure', () => status.failed),
    fn('always', () => true),
    fn('cancelled', () => false),
  ]);
}

function toExpressionData(value: Json): data.ExpressionData {
  return JSON.parse(JSON.stringify(value), data.reviver) as data.ExpressionData;
}

function fromExpressionData(value: data.ExpressionData): Json {
  return JSON.parse(JSON.stringify(value, data.replacer) ?? 'null') as Json;
}

/** Evaluates one expression (the text inside `${{ }}`). */
export function evaluateExpression(expression: string, scope: EvaluationScope, where?: TemplateToken): Json {
  const status = scope.status ?? { success: true, failed: false };
  const functions = statusFunctions(status);
  try {
    const { tokens } = new Lexer(expression).lex();
    const tree = new Parser(tokens, Object.keys(scope.contexts), [...functions.values()]).parse();
    const context = toExpressionData(scope.contexts as Json) as data.Dictionary;
    return fromExpressionData(new Evaluator(tree, context, functions).evaluate());
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UnsupportedConstruct(scope.file, where?.line, `the expression \${{ ${expression} }} cannot be evaluated here: ${message}`);
  }
}

/** A template token, every expression in it evaluated, as JSON. */
export function evaluateToken(token: TemplateToken | undefined, scope: EvaluationScope): Json {
  if (token === undefined) return null;
  if (isBasicExpression(token)) return evaluateExpression(token.expression, scope, token);
  if (isString(token)) return token.value;
  if (isBoolean(token)) return token.value;
  if (isNumber(token)) return token.value;
  if (isSequence(token)) {
    const items: Json[] = [];
    for (const item of token) items.push(evaluateToken(item, scope));
    return items;
  }
  if (isMapping(token)) {
    const result: Record<string, Json> = {};
    for (const { key, value } of token) result[String(evaluateToken(key, scope))] = evaluateToken(value, scope);
    return result;
  }
  return null; // NullToken
}

/** How GitHub turns a value into the string a step input, env var or output gets. */
export function asString(value: Json): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  return JSON.stringify(value, null, 2);
}

/** GitHub's truthiness, as `if:` applies it to a result. */
export function isTruthy(value: Json): boolean {
  if (value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (typeof value === 'string') return value !== '';
  return true;
}

/** A mapping token evaluated to name → string (env:, with:, outputs:). */
export function evaluateStringMap(token: TemplateToken | undefined, scope: EvaluationScope): Record<string, string> {
  const value = evaluateToken(token, scope);
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new UnsupportedConstruct(scope.file, token?.line, 'a mapping was expected here');
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, asString(item)]));
}
