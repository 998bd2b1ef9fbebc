/** The pids of `pids` that are still running. */
export function stillRunning(pids: readonly number[]): number[] {
  return pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      // EPERM: it exists, but is not ours to signal.
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  });
}
