import { runAction } from '@toolkit/shared';
import { main } from './main.js';
import { hasAbandonedRequests } from './umbrella-chart.js';

// A registry request given up on at the timeout is not aborted, and its socket would keep the step
// running until the server gives up (minutes): once the failure is reported, stop.
void runAction(main).then(() => {
  if (hasAbandonedRequests()) process.exit();
});
