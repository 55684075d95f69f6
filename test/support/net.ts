export { freePort, waitForPort } from '@toolkit/cli';
