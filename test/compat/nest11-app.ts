import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/compat/nest11-cjs, the NestJS 11 CommonJS app that `npm run compat:prepare` makes ready. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const APP = join(ROOT, 'test/compat/nest11-cjs');
export const MAIN = join(APP, 'dist/main.js');
/** Written by compat:prepare at its end; the app is up to date when nothing below is newer. */
const STAMP = join(APP, 'node_modules/.kettle-compat-stamp');

/** Why the app cannot be tested as it is, or undefined when it is ready. */
export function notPrepared(): string | undefined {
  for (const file of [MAIN, STAMP, join(APP, 'node_modules/nestjs-kettle/package.json')])
    if (!existsSync(file)) return `${relative(ROOT, file)} is missing`;
  const preparedAt = statSync(STAMP).mtimeMs;
  const sources = [...filesUnder(join(ROOT, 'lib')), ...filesUnder(join(APP, 'src'))];
  const changed = sources.find((file) => statSync(file).mtimeMs > preparedAt);
  return changed && `${relative(ROOT, changed)} changed after the last compat:prepare`;
}

/** Throws, saying what to run, unless the app is ready. */
export function assertPrepared(): void {
  const problem = notPrepared();
  if (problem)
    throw new Error(
      `test/compat/nest11-cjs is not prepared (${problem}): run \`npm run compat:prepare\` first`,
    );
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}
