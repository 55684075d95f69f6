import { runAction } from '@toolkit/shared';
import { main } from './main.js';

void runAction(main);
