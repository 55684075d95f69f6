export { type DockerDaemon, pushBusyboxImage, startDockerd } from '@toolkit/cli';
