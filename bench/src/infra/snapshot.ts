import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '#tools/wait.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BENCH_DIST = fileURLToPath(new URL('../', import.meta.url));

/**
 * Copies the built package, the built tools and the node programs into `dir`, and returns where
 * the node programs are. Other people rebuild dist/ and tools/dist/ while the bench runs (tsc
 * rewrites them): every node started during the run must load the same kettle, complete. The copy
 * has a package.json of its own, so that `import 'nestjs-kettle'` resolves to its node_modules/
 * rather than to the working tree's dist/, and `#tools/*` to its tools/; every other import still
 * finds the repository's node_modules/ further up.
 */
export async function snapshot(dir: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    rmSync(dir, { recursive: true, force: true });
    const kettle = join(dir, 'node_modules', 'nestjs-kettle');
    mkdirSync(kettle, { recursive: true });
    const nodesPackage = {
      name: 'nestjs-kettle-bench-nodes',
      private: true,
      type: 'module',
      imports: { '#tools/*.js': './tools/*.js' },
    };
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(nodesPackage)}\n`);
    cpSync(join(ROOT, 'package.json'), join(kettle, 'package.json'));
    cpSync(join(ROOT, 'dist'), join(kettle, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'tools', 'dist'), join(dir, 'tools'), { recursive: true });
    cpSync(join(BENCH_DIST, 'nodes'), join(dir, 'nodes'), { recursive: true });
    const needed = [
      join(kettle, 'dist', 'cjs', 'index.js'),
      join(kettle, 'dist', 'esm', 'index.js'),
      join(dir, 'tools', 'event-lines.js'),
    ];
    if (needed.every((file) => existsSync(file))) return join(dir, 'nodes');
    // Caught in the middle of someone's rebuild: try again shortly.
    if (attempt === 5) throw new Error(`no complete build in ${ROOT}dist and ${ROOT}tools/dist`);
    await sleep(2000);
  }
}

/** The commit the working tree is at, and whether lib/ differs from it. */
export function revision(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'lib') !== '';
    return dirty ? `${commit} with uncommitted changes in lib/` : commit;
  } catch {
    return 'unknown';
  }
}
