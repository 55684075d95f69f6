export { requireTool } from '@toolkit/cli';
