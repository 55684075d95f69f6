import { UserError } from '@toolkit/shared';

/**
 * A workflow uses something the rehearsal does not run (a construct, an action, a repository): the
 * rehearsal fails, naming it and where it stands, rather than skipping it and passing.
 */
export class UnsupportedConstruct extends UserError {
  constructor(file: string, line: number | undefined, problem: string) {
    super('INVALID_CONFIGURATION', `${file}${line ? `:${line}` : ''}: ${problem}`);
  }
}
