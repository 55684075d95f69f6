export * from './dockerd.js';
export * from './local-parts.js';
export * from './net.js';
export * from './registry.js';
export * from './sshd.js';
export * from './system-tools.js';
