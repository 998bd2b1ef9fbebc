import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PACKAGES = [
  '@nestjs/core',
  '@nestjs/schedule',
  '@sesamecare-oss/redlock',
  'bullmq',
  '@nestjs/bullmq',
  'redis-leader',
  'ts-safe-redis-leader',
  'ioredis',
];

/** The installed version of this package and of every peer, read from node_modules. */
export function versions(): Record<string, string> {
  const root = new URL('../../', import.meta.url);
  const read = (path: string) =>
    (JSON.parse(readFileSync(fileURLToPath(new URL(path, root)), 'utf8')) as { version: string })
      .version;
  const found: Record<string, string> = { 'nestjs-kettle': read('package.json') };
  for (const name of PACKAGES) {
    try {
      found[name] = read(`node_modules/${name}/package.json`);
    } catch {
      found[name] = 'not installed';
    }
  }
  return found;
}
