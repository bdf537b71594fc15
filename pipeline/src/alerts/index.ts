export * from './rules.js';
export * from './evaluate.js';
export * from './notify.js';
export * from './runner.js';
export * from './pipeline.js';
