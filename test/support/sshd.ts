export { type SshServer, generateKey, startSshServer } from '@toolkit/cli';
