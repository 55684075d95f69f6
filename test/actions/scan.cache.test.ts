// @actions/cache is scan's dependency, not the root's: imported from where scan resolves it.
import { describe, expect, it } from '@jest/globals';
import { isFeatureAvailable } from '../../actions/scan/node_modules/@actions/cache/lib/cache.js';
import { actionsCacheConfigured } from '../../actions/scan/src/main.js';

const VARIABLES = ['GITHUB_SERVER_URL', 'ACTIONS_CACHE_SERVICE_V2', 'ACTIONS_RESULTS_URL', 'ACTIONS_CACHE_URL'] as const;

describe('scan: whether the Actions cache service is configured, decided before @actions/cache is loaded', () => {
  // Every combination of the variables the library reads: the two must agree on each, so that a
  // run without the service never loads the library, and a run with it never skips the cache.
  const servers = [undefined, 'https://github.com', 'https://acme.ghe.com', 'https://github.acme.example'];
  const flags = [undefined, '', 'true'];
  const urls = [undefined, '', 'https://results.example/'];
  const cases: Record<string, string | undefined>[] = [];
  for (const GITHUB_SERVER_URL of servers)
    for (const ACTIONS_CACHE_SERVICE_V2 of flags)
      for (const ACTIONS_RESULTS_URL of urls)
        for (const ACTIONS_CACHE_URL of urls)
          cases.push({ GITHUB_SERVER_URL, ACTIONS_CACHE_SERVICE_V2, ACTIONS_RESULTS_URL, ACTIONS_CACHE_URL });

  it('agrees with @actions/cache isFeatureAvailable() on every combination of its variables', () => {
    const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
    try {
      const disagreements = cases.filter((variables) => {
        for (const name of VARIABLES) {
          if (variables[name] === undefined) delete process.env[name];
          else process.env[name] = variables[name];
        }
        return actionsCacheConfigured(process.env) !== isFeatureAvailable();
      });
      expect(disagreements).toEqual([]);
      // Both answers occur, so the comparison is not vacuous.
      expect(new Set(cases.map((variables) => actionsCacheConfigured(variables)))).toEqual(new Set([true, false]));
    } finally {
      for (const name of VARIABLES) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });

  it('says no on a machine with none of them, as here', () => {
    expect(actionsCacheConfigured({})).toBe(false);
    expect(actionsCacheConfigured({ ACTIONS_CACHE_URL: 'https://cache.example/' })).toBe(true);
    expect(actionsCacheConfigured({ ACTIONS_CACHE_SERVICE_V2: 'true', ACTIONS_CACHE_URL: 'https://cache.example/' })).toBe(false);
  });
});
