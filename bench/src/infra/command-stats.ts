import type { Redis } from 'ioredis';

/** Redis's own counters at one moment: commands executed (scripts' inner calls included) and CPU. */
export interface RedisSnapshot {
  at: number;
  calls: Map<string, number>;
  /** used_cpu_user + used_cpu_sys, seconds. */
  cpuSeconds: number;
  usedMemory: number;
}

/** The redis-server's version, as its INFO says. */
export async function redisVersion(admin: Redis): Promise<string> {
  const info = await admin.info('server');
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
}

/** Empties Redis and zeroes its counters: each peer and scale step starts from the same state. */
export async function resetRedis(admin: Redis): Promise<void> {
  await admin.flushall();
  await admin.config('RESETSTAT');
}

/** The driver reads the counters with INFO; they are not the nodes' work. */
const DRIVER_COMMANDS = new Set(['info', 'config|resetstat', 'flushall', 'ping']);

export async function snapshot(admin: Redis): Promise<RedisSnapshot> {
  const at = performance.now();
  const [commands, cpu, memory] = await Promise.all([
    admin.info('commandstats'),
    admin.info('cpu'),
    admin.info('memory'),
  ]);
  const calls = new Map<string, number>();
  for (const match of commands.matchAll(/^cmdstat_(\S+):calls=(\d+)/gm)) {
    if (!DRIVER_COMMANDS.has(match[1]!)) calls.set(match[1]!, Number(match[2]));
  }
  const field = (text: string, name: string) =>
    Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(text)?.[1] ?? 0);
  return {
    at,
    calls,
    cpuSeconds: field(cpu, 'used_cpu_user') + field(cpu, 'used_cpu_sys'),
    usedMemory: field(memory, 'used_memory'),
  };
}

/** What Redis did between two snapshots, per second. */
export interface RedisLoad {
  seconds: number;
  /** Commands executed per second, those inside Lua scripts included (INFO commandstats). */
  executedPerSecond: number;
  /** The same, per command name, busiest first. */
  byCommand: Array<{ command: string; perSecond: number }>;
  /** Redis CPU, ms per second of wall time (all of Redis's threads). */
  cpuMsPerSecond: number;
  usedMemory: number;
}

export function load(before: RedisSnapshot, after: RedisSnapshot): RedisLoad {
  const seconds = (after.at - before.at) / 1000;
  const byCommand: RedisLoad['byCommand'] = [];
  let total = 0;
  for (const [command, calls] of after.calls) {
    const delta = calls - (before.calls.get(command) ?? 0);
    if (delta <= 0) continue;
    total += delta;
    byCommand.push({ command, perSecond: delta / seconds });
  }
  byCommand.sort((a, b) => b.perSecond - a.perSecond);
  return {
    seconds,
    executedPerSecond: total / seconds,
    byCommand,
    cpuMsPerSecond: ((after.cpuSeconds - before.cpuSeconds) * 1000) / seconds,
    usedMemory: after.usedMemory,
  };
}
