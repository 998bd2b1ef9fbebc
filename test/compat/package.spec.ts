import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP, assertPrepared, ROOT } from './nest11-app.js';

/**
 * What `npm pack` ships (from `npm pack --dry-run`, so after `npm run build`), and the package as
 * installed from its tarball into test/compat/nest11-cjs (`npm run compat:prepare`): every entry
 * resolves, for `require` and `import` alike, to the same class objects and to its types.
 */
interface PackReport {
  files: { path: string }[];
}

interface PackageJson {
  main: string;
  types: string;
  exports: Record<string, unknown>;
  typesVersions: Record<string, Record<string, string[]>>;
}

function packedFiles(): Set<string> {
  const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(pack.status, pack.stderr).toBe(0);
  const [report] = JSON.parse(pack.stdout) as PackReport[];
  return new Set(report.files.map((file) => file.path));
}

/** Every file path a conditional export (or a nesting of them) names. */
function targetsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(targetsOf);
  return [];
}

const readJson = <T>(file: string) => JSON.parse(readFileSync(file, 'utf8')) as T;
const packageJson = readJson<PackageJson>(join(ROOT, 'package.json'));
/** `nestjs-kettle`, `nestjs-kettle/core`... */
const entries = Object.keys(packageJson.exports)
  .filter((key) => key !== './package.json')
  .map((key) => posix.join('nestjs-kettle', key));

describe('the packed package', () => {
  const files = packedFiles();
  const shipped = (path: string) => files.has(posix.normalize(path).replace(/^\.\//, ''));

  it('ships every file that package.json points at', () => {
    const targets = [
      packageJson.main,
      packageJson.types,
      ...targetsOf(packageJson.exports),
      ...Object.values(packageJson.typesVersions['*']).flat(),
    ];
    expect(targets.length).toBeGreaterThan(entries.length * 4);
    expect(targets.filter((target) => !shipped(target))).toEqual([]);
    expect(['LICENSE', 'README.md', 'package.json'].filter((file) => !shipped(file))).toEqual([]);
  });

  it('ships nothing for tests or development', () => {
    const testOnly = [...files].filter(
      (path) =>
        /^(test|tools|sample|bench|scripts|lib)\//.test(path) ||
        /\.spec\./.test(path) ||
        /(^|\/)tsconfig[^/]*\.json$/.test(path) ||
        path.endsWith('.tgz'),
    );
    expect(testOnly).toEqual([]);
  });

  it('ships source maps that carry their sources', () => {
    const maps = [...files].filter((path) => path.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const missing = maps.flatMap((map) => {
      const { sources, sourcesContent, sourceRoot } = readJson<{
        sources: string[];
        sourcesContent?: (string | null)[];
        sourceRoot?: string;
      }>(join(ROOT, map));
      return sources
        .filter((source, i) => typeof sourcesContent?.[i] !== 'string')
        .filter((source) => !shipped(posix.join(posix.dirname(map), sourceRoot ?? '', source)))
        .map((source) => `${map}: ${source}`);
    });
    expect(missing).toEqual([]);
  });

  it('ships Markdown whose relative links lead to shipped files', () => {
    const markdown = [...files].filter((path) => path.endsWith('.md'));
    expect(markdown).toContain('README.md');
    const broken = markdown.flatMap((file) => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const links = [
        ...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g),
        ...text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm),
      ].map((match) => match[1]);
      return links
        .filter((link) => !/^[a-z][a-z0-9+.-]*:/i.test(link) && !link.startsWith('#'))
        .filter((link) => !shipped(posix.join(posix.dirname(file), link.split('#')[0])))
        .map((link) => `${file}: ${link}`);
    });
    expect(broken).toEqual([]);
  });
});

describe('the package installed from its tarball', () => {
  it('gives require and import of every entry the same objects', () => {
    assertPrepared();
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(process.cwd() + '/package.json');
      const found = {};
      for (const entry of ${JSON.stringify(entries)}) {
        const required = require(entry);
        const imported = await import(entry);
        const names = Object.keys(required).filter((name) => name !== '__esModule');
        found[entry] = {
          resolved: require.resolve(entry).slice(process.cwd().length),
          names: names.length,
          onlyRequired: names.filter((name) => !(name in imported)),
          onlyImported: Object.keys(imported).filter((name) => !names.includes(name)),
          different: names.filter((name) => name in imported && imported[name] !== required[name]),
        };
      }
      console.log(JSON.stringify(found));`;
    const node = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: APP,
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    expect(node.status, node.stderr).toBe(0);
    expect(node.stderr).toBe('');
    const found = JSON.parse(node.stdout) as Record<string, Record<string, unknown>>;
    expect(Object.keys(found)).toEqual(entries);
    for (const entry of entries) {
      expect(found[entry], entry).toMatchObject({
        resolved: expect.stringMatching(/^\/node_modules\/nestjs-kettle\/dist\/cjs\//),
        onlyRequired: [],
        onlyImported: [],
        different: [],
      });
      expect(found[entry].names, entry).toBeGreaterThan(0);
    }
  });

  it("loads every entry, and its peers, from the app's own node_modules only", () => {
    assertPrepared();
    // The app lies inside this repository, whose node_modules Node would fall back to: a peer the
    // app lacks (or a Nest 12 package) would load from there unseen, never from a user's app.
    const script = `
      const found = {};
      for (const entry of ${JSON.stringify(entries)}) {
        const before = new Set(Object.keys(require.cache));
        require(entry);
        found[entry] = Object.keys(require.cache)
          .filter((file) => !before.has(file) && !file.startsWith(process.cwd() + '/'));
      }
      console.log(JSON.stringify(found));`;
    const node = spawnSync(process.execPath, ['-e', script], {
      cwd: APP,
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    expect(node.status, node.stderr).toBe(0);
    const found = JSON.parse(node.stdout) as Record<string, string[]>;
    expect(Object.keys(found)).toEqual(entries);
    for (const entry of entries) expect(found[entry], entry).toEqual([]);
  });

  it('has types for import (NodeNext), require (NodeNext) and TypeScript 5 CommonJS', () => {
    assertPrepared();
    // In the app, with its TypeScript 5: a file per module system that imports every entry.
    const dir = mkdtempSync(join(APP, '.types-'));
    try {
      const importing = entries.map((entry, i) => `import * as e${i} from '${entry}';`);
      const used = `export const all = [${entries.map((_, i) => `e${i}`).join(', ')}];\n`;
      writeFileSync(join(dir, 'esm.mts'), `${importing.join('\n')}\n${used}`);
      writeFileSync(join(dir, 'cjs.cts'), `${importing.join('\n')}\n${used}`);
      writeFileSync(join(dir, 'node10.ts'), `${importing.join('\n')}\n${used}`);
      const base = { strict: true, noEmit: true, skipLibCheck: true, types: [] };
      const configs = {
        'nodenext.json': { module: 'nodenext', files: ['esm.mts', 'cjs.cts'] },
        'node10.json': { module: 'commonjs', files: ['node10.ts'] },
      };
      for (const [name, { module, files }] of Object.entries(configs))
        writeFileSync(
          join(dir, name),
          JSON.stringify({ compilerOptions: { ...base, module }, files }),
        );
      const tsc = (config: string) => {
        const run = spawnSync(
          process.execPath,
          [join(APP, 'node_modules/typescript/bin/tsc'), '-p', join(dir, config), '--listFiles'],
          { cwd: dir, encoding: 'utf8' },
        );
        expect(run.status, `${config}\n${run.stdout}${run.stderr}`).toBe(0);
        return run.stdout;
      };
      const declarations = (listed: string, side: 'cjs' | 'esm') =>
        listed
          .split('\n')
          .filter((file) => /\/nestjs-kettle\/dist\/(cjs|esm)\/(.+\/)?index\.d\.ts$/.test(file))
          .filter((file) => file.includes(`/dist/${side}/`)).length;
      // Each entry's index.d.ts of each side: import takes dist/esm, require dist/cjs.
      const nodenext = tsc('nodenext.json');
      expect(declarations(nodenext, 'esm')).toBe(entries.length);
      expect(declarations(nodenext, 'cjs')).toBeGreaterThanOrEqual(entries.length);
      const node10 = tsc('node10.json');
      expect(declarations(node10, 'esm')).toBe(0);
      expect(declarations(node10, 'cjs')).toBeGreaterThanOrEqual(entries.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
