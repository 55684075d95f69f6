// Preloaded with `node --import` by bench/support/bench.mjs in one extra run per benchmark (never in a
// timed run): records every module file the process loads, chunks that arrive by import() included,
// and writes the list to $BENCH_LOADED_FILES when the process exits.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const loaded = new Set();
registerHooks({
  load(url, context, next) {
    if (url.startsWith('file:')) loaded.add(url);
    return next(url, context);
  },
});
process.on('exit', () => writeFileSync(process.env.BENCH_LOADED_FILES, JSON.stringify([...loaded])));
