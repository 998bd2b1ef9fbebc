/** One server's answer to a command sent to every server of a quorum. */
export type Answer<T> =
  | { readonly server: number; readonly value: T }
  /** `redis[i]: reason`: the server failed, or did not answer in time. */
  | { readonly server: number; readonly failure: string };

/** A quorum command that reached no majority: its outcome is unknown, never a success. */
export class KettleQuorumError extends Error {
  override readonly name = 'KettleQuorumError';
  constructor(action: string, majority: number, servers: number, failures: readonly string[]) {
    super(
      `${action} got no majority (${majority} of ${servers} Redis servers) to answer: ${failures.join('; ')}`,
    );
  }
}

/**
 * Settles as soon as `decide` can tell from the answers so far (it must when none is pending):
 * a quorum never waits on its slowest server. `decide` may throw to reject.
 */
export function settleWhenDecided<T, R>(
  calls: ReadonlyArray<Promise<T>>,
  decide: (answers: ReadonlyArray<Answer<T>>, pending: number) => R | undefined,
): Promise<R> {
  return new Promise((resolve, reject) => {
    const answers: Array<Answer<T>> = [];
    let decided = false;
    const settle = (answer: Answer<T>): void => {
      if (decided) return;
      answers.push(answer);
      try {
        const decision = decide(answers, calls.length - answers.length);
        if (decision === undefined) return;
        decided = true;
        resolve(decision);
      } catch (error) {
        decided = true;
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    calls.forEach((call, server) => {
      call.then(
        (value) => settle({ server, value }),
        (error: Error) => settle({ server, failure: `redis[${server}]: ${error.message}` }),
      );
    });
  });
}

export interface Vote<T> {
  /**
   * `yes`: a majority said yes. `no`: so many said no that no majority can say yes.
   * `unreachable`: no majority can say yes, but only because servers failed.
   */
  readonly outcome: 'yes' | 'no' | 'unreachable';
  readonly yes: T[];
  readonly no: T[];
  readonly failures: string[];
}

/** A yes-or-no command on every server, settled once a majority said yes or cannot. */
export function majorityVote<T>(
  calls: ReadonlyArray<Promise<T>>,
  isYes: (value: T) => boolean,
  majority: number,
): Promise<Vote<T>> {
  const minority = calls.length - majority;
  return settleWhenDecided(calls, (answers, pending) => {
    const yes: T[] = [];
    const no: T[] = [];
    const failures: string[] = [];
    for (const answer of answers) {
      if ('failure' in answer) failures.push(answer.failure);
      else (isYes(answer.value) ? yes : no).push(answer.value);
    }
    if (yes.length >= majority) return { outcome: 'yes', yes, no, failures };
    if (no.length > minority) return { outcome: 'no', yes, no, failures };
    if (yes.length + pending >= majority) return undefined;
    // No majority can say yes, but the answers still to come may make it a plain no: wait for
    // them, or a failure that merely came first would turn a refusal into an error.
    if (no.length + pending > minority) return undefined;
    return { outcome: 'unreachable', yes, no, failures };
  });
}
