#!/usr/bin/env node
// npm run lint: the layers of lib/ hold. The core runs without Nest, and inside it every import
// points down: kettle -> options -> election -> interfaces -> store -> utils. And the dev harness
// in tools/ stays out of what users get: lib/, and the sample app (sample/src but its demo/). The
// optional entries lib/otel and lib/prometheus use only the core's public API.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Packages that only the Nest layer may import. */
export const NEST_ONLY = [/^@nestjs\//, /^rxjs(\/|$)/, /^reflect-metadata$/];

/**
 * Each room of lib/core and its height: a file may import its own room and lower ones. The first
 * prefix that matches a path names its room.
 */
export const CORE_ROOMS = [
  ['lib/core/utils/', 0],
  ['lib/core/kettle.messages.ts', 0],
  ['lib/core/store/', 1],
  ['lib/core/interfaces/', 2],
  ['lib/core/errors.ts', 3],
  ['lib/core/election/', 4],
  ['lib/core/options/', 5],
  ['lib/core/fencing.ts', 5],
  ['lib/core/election-metrics.ts', 5],
  ['lib/core/console-logger.ts', 5],
  ['lib/core/create-store.ts', 6],
  ['lib/core/kettle.ts', 7],
  ['lib/core/index.ts', 8],
];

function roomOf(path) {
  return CORE_ROOMS.find(([prefix]) => path.startsWith(prefix));
}

/** The specifiers a TypeScript source imports or re-exports, static or dynamic. */
export function importsOf(source) {
  const found = [];
  const pattern =
    /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;
  for (const match of source.matchAll(pattern)) found.push(match[1] ?? match[2] ?? match[3]);
  return found;
}

/**
 * The relative imports of `path` as [specifier, the .ts file it names]; a package import that only
 * the Nest layer may use is a problem of its own, added to `problems`.
 */
function relativeImports(path, source, problems) {
  const found = [];
  for (const specifier of importsOf(source)) {
    if (specifier.startsWith('.'))
      found.push([specifier, normalize(join(dirname(path), specifier)).replace(/\.js$/, '.ts')]);
    else if (NEST_ONLY.some((p) => p.test(specifier)))
      problems.push(`${path}: imports ${specifier}, which only the Nest layer may use`);
  }
  return found;
}

/** Every broken rule in `files` (repository-relative path -> source), one line each. */
export function layerViolations(files) {
  const problems = [];
  for (const [path, source] of files) {
    if (!path.startsWith('lib/core/')) continue;
    const room = roomOf(path);
    if (!room) {
      problems.push(`${path}: not in any room of lib/core; add it to CORE_ROOMS`);
      continue;
    }
    for (const [specifier, target] of relativeImports(path, source, problems)) {
      if (!target.startsWith('lib/core/')) {
        problems.push(`${path}: imports ${specifier}, outside lib/core`);
        continue;
      }
      const targetRoom = roomOf(target);
      if (targetRoom && targetRoom[0] !== room[0] && targetRoom[1] > room[1])
        problems.push(`${path}: imports ${specifier}, a room above its own (${targetRoom[0]})`);
    }
  }
  return problems;
}

/**
 * The optional entries beside the core (`nestjs-kettle/otel`, `nestjs-kettle/prometheus`): each
 * runs without Nest, on the core's public API and its messages, so that it works with a plain
 * Kettle as with KettleService.
 */
export const CORE_ADDONS = ['lib/otel/', 'lib/prometheus/'];
const ADDON_MAY_IMPORT = ['lib/core/index.ts', 'lib/core/kettle.messages.ts'];

/** Every import of an addon that is not its own folder, the core's index or its messages. */
export function addonViolations(files) {
  const problems = [];
  for (const [path, source] of files) {
    const addon = CORE_ADDONS.find((prefix) => path.startsWith(prefix));
    if (!addon) continue;
    for (const [specifier, target] of relativeImports(path, source, problems)) {
      if (!target.startsWith(addon) && !ADDON_MAY_IMPORT.includes(target))
        problems.push(
          `${path}: imports ${specifier}; an addon imports only lib/core/index.ts and kettle.messages.ts`,
        );
    }
  }
  return problems;
}

/** Where tools/ may not be imported from; the sample's demo/ is the repository's, not a user's. */
function shippedOrUserCode(path) {
  if (path.startsWith('sample/src/demo/')) return false;
  return path.startsWith('lib/') || path.startsWith('sample/src/');
}

/** Every import of tools/ (as `#tools/*` or by a relative path) from lib/ or the sample app. */
export function toolsViolations(files) {
  const problems = [];
  for (const [path, source] of files) {
    if (!shippedOrUserCode(path)) continue;
    for (const specifier of importsOf(source)) {
      const target = specifier.startsWith('.') ? normalize(join(dirname(path), specifier)) : '';
      if (specifier.startsWith('#tools/') || target.startsWith('tools/'))
        problems.push(`${path}: imports ${specifier}, from the dev harness in tools/`);
    }
  }
  return problems;
}

function sources(dir, root) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path, root);
    return entry.name.endsWith('.ts') ? [[relative(root, path), readFileSync(path, 'utf8')]] : [];
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const lib = sources(join(root, 'lib'), root);
  const sample = sources(join(root, 'sample', 'src'), root);
  const problems = [
    ...layerViolations(lib),
    ...addonViolations(lib),
    ...toolsViolations([...lib, ...sample]),
  ];
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) process.exit(1);
}
