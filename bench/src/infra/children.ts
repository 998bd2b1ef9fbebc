import type { ChildProcess } from 'node:child_process';

/**
 * Every process the bench started, so that they all die with it: on a normal exit, an error,
 * Ctrl-C or SIGTERM. Only these processes, by their own handles; nothing found by name.
 */
const children = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      // A node or Redis may have been paused (SIGSTOP) by a scenario; SIGKILL works either way.
      child.kill('SIGKILL');
    }
  }
  children.clear();
}

let installed = false;

/** Kills every tracked child when the driver ends, however it ends. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (error) => {
    console.error(error);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (error) => {
    console.error(error);
    killAll();
    process.exit(1);
  });
}
