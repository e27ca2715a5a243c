// What a checker reports when the run broke one of the properties.

export type CheckerName =
  | 'leader-per-term'
  | 'lease'
  | 'log-matching'
  | 'committed'
  | 'applied-state'
  | 'linearizable'
  | 'durable-promises'
  | 'group-exclusive'
  | 'liveness'
  | 'exception';

export interface Violation {
  checker: CheckerName;
  /** True simulated time (ms) at which it was detected. */
  at: number;
  detail: string;
}
