/** One run of a master job (an `@OnMaster` method, a `join` or `schedule` run), as observers see it. */
export interface RunInfo {
  /** The election. */
  readonly name: string;
  /** This node's id. */
  readonly nodeId: string;
  /** The term of the leadership the run belongs to. */
  readonly term: number;
  /** Which job runs: `BillingService.charge`, `join('tenant-7')`, `schedule('nightly')`. */
  readonly job: string;
  /** The slot the run belongs to (`MasterContext.scheduledAt`). */
  readonly scheduledAt: Date;
}

/** How a run ended: `error` is what the job threw or rejected with. */
export type RunOutcome = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

/**
 * Wraps each run of a master job, e.g. in a tracing span: call `proceed()` to run the job (inside
 * whatever context the observer set up); it resolves with the outcome and never rejects. The job
 * runs once whatever the observer does: it runs when the observer throws, or when its result
 * settles without having called `proceed()`, and a second call returns the same promise (one that
 * neither proceeds nor settles holds the run, as a job that never ends would). A failure of the
 * job is logged and counted by kettle as always; one of the observer's (a throw, a rejection) is
 * logged and counted in `callbackErrors`.
 */
export type RunObserver = (run: RunInfo, proceed: () => Promise<RunOutcome>) => unknown;
