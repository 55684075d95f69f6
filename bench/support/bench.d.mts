// Types of bench.mjs for the benchmarks written in TypeScript (bench/deploy-compose.ts).
export interface Measured {
  ms: number;
  maxRssKiB: number;
  rssMB: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}
export interface ActionRun extends Measured {
  outputs: Record<string, string>;
  summary: string;
}
export interface BuiltAction {
  name: string;
  main: string;
  inputs: Record<string, string>;
  run(options?: { nodeArgs?: string[]; allowFailure?: boolean }): Promise<ActionRun>;
  loaded(options?: { allowFailure?: boolean }): Promise<{ files: string[]; bytes: number; mb: number }>;
}
export const root: string;
export const node24: string;
export function mb(bytes: number): number;
export function median(values: number[]): number;
export function min(values: number[]): number;
export function measure(
  argv: string[],
  options?: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; allowFailure?: boolean },
): Promise<Measured>;
export function nodeStart(): Promise<Measured>;
export function builtAction(
  name: string,
  options?: { inputs?: Record<string, string>; env?: Record<string, string>; workspace?: string; binPath?: string },
): Promise<BuiltAction>;
export function fmtMs(ms: number): string;
export function fmtMB(value: number): string;
export function verdict(value: number, goal: number, format?: (value: number) => string): string;
export function table(header: string[], rows: unknown[][]): string;
export function intro(measures: string, baseline: string): void;
export function sandbox(prefix: string): string;
