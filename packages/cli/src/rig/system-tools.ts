import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The path of a system tool run for real (by the tests and the demo) (sbin included, where sshd and dockerd live).
 * A missing one fails, naming the Debian package (`npm test` installs them all).
 */
export function requireTool(name: string, packageName = name): string {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin']) {
    if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  throw new Error(
    `${name} is not installed: \`npm test\` installs it (apt-get install ${packageName}); these tests need the real one and do not pass without it.`,
  );
}
