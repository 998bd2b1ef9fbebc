/**
 * Loaded into every node the demo starts (`node --import`), before the sample app. When the demo
 * ends, however it ends, the IPC channel to the node closes: the node then shuts down as on
 * SIGTERM, releasing its lease, so that no node outlives the demo.
 */
if (process.channel) {
  // The channel alone must not keep the node running.
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

export {};
