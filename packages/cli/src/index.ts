export * from './action-manifest.js';
export * from './catalog.js';
export * from './demo.js';
export * from './init.js';
export * from './local-runner.js';
export * from './summary-text.js';
export * from './validate.js';
export * from './rehearse/index.js';
