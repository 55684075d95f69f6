/**
 * Hostile strings that every input reaching a shell, a remote host or a file name is tested with.
 * Each tries to run `touch <canary>`, break out of quoting, or smuggle a second command; the tests
 * that use them check that the string arrives unchanged and that the canary is never created.
 * `CANARY` is replaced by the caller with a path of its own.
 */
export const INJECTION_CORPUS: readonly string[] = [
  '$(touch CANARY)',
  '`touch CANARY`',
  '; touch CANARY',
  '&& touch CANARY',
  '|| touch CANARY',
  '| touch CANARY',
  '& touch CANARY',
  '\ntouch CANARY\n',
  '\r\ntouch CANARY',
  "'; touch CANARY; '",
  '"; touch CANARY; "',
  "'\"'\"'$(touch CANARY)'\"'\"'",
  "\\'; touch CANARY",
  '${IFS}touch${IFS}CANARY',
  '$((1+1))$(touch CANARY)',
  '> CANARY',
  '>> CANARY',
  '< /etc/passwd',
  '$(printf touch) CANARY',
  '-oProxyCommand=touch CANARY',
  '--help; touch CANARY',
  '*',
  '~root',
  '{a,b}$(touch CANARY)',
  '!!',
  '#; touch CANARY',
  '%0atouch CANARY',
  'a\u0000b',
  'ünïcødé 🚀 $(touch CANARY)',
  '\u202etouch CANARY',
  '\t\v\f',
  '',
  ' ',
  "'",
  '"',
  '\\',
  '$',
  '$HOME',
  '"$(touch CANARY)"',
  "'$(touch CANARY)'",
];

/** Replaces the `CANARY` placeholder with the path a test watches. */
export function injectionCorpus(canaryPath: string): string[] {
  return INJECTION_CORPUS.map((text) => text.replaceAll('CANARY', canaryPath));
}
