import { locate, type NodePositions } from './materialize.js';
import { formatPath, type ConfigProblem } from './problems.js';

/** Collects problems for paths, placing each at its node in the file. */
export class ProblemCollector {
  readonly errors: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];

  constructor(
    private readonly file: string,
    private readonly positions: Map<string, NodePositions>,
  ) {}

  error(path: readonly PropertyKey[], message: string, prefer: 'key' | 'value' = 'value'): void {
    this.errors.push(this.make(path, message, 'error', prefer));
  }

  warn(path: readonly PropertyKey[], message: string, prefer: 'key' | 'value' = 'value'): void {
    this.warnings.push(this.make(path, message, 'warning', prefer));
  }

  private make(path: readonly PropertyKey[], message: string, severity: ConfigProblem['severity'], prefer: 'key' | 'value'): ConfigProblem {
    const where = locate(this.positions, path, prefer);
    return { file: this.file, line: where.line, col: where.col, path: formatPath(path), message, severity };
  }
}
