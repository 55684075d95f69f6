/**
 * Node's crypto module, loaded when first used: loading it is several milliseconds of an action's
 * start (docs/performance.md), and many runs never hash anything. `process.getBuiltinModule` loads
 * a built-in synchronously, where `import()` would make every caller async.
 */
export function nodeCrypto(): typeof import('node:crypto') {
  return process.getBuiltinModule('node:crypto');
}
