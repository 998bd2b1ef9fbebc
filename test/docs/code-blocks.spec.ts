import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Every ```ts / ```typescript block of README.md and docs/**\/*.md typechecks against the built
 * package, as a user's file would: `nestjs-kettle` and its subpath entries (`/core`, `/testing`...)
 * resolve through package.json "exports" (a self-reference), so a block that names an API the
 * package does not export fails here. A block whose info string has the word `fragment` is skipped.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const TS_LANGUAGES = new Set(['ts', 'typescript']);

interface CodeBlock {
  /** The Markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  fenceLine: number;
  info: string;
  code: string;
}

/** The fenced blocks of a Markdown text, indented ones (in list items) included. */
function fencedBlocks(file: string, markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)(`{3,}|~{3,})(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^ *(`{3,}|~{3,}) *$/.exec(lines[j]);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    }
    blocks.push({ file, fenceLine: i + 1, info: info.trim(), code: body.join('\n') });
    i = j;
  }
  return blocks;
}

function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.md'))
    .map((path) => join('docs', path));
  return ['README.md', ...docs.sort()];
}

const isTypeScript = (block: CodeBlock) =>
  TS_LANGUAGES.has(block.info.split(/\s+/)[0].toLowerCase());
const isFragment = (block: CodeBlock) => block.info.split(/\s+/).includes('fragment');

const blocks = markdownFiles()
  .flatMap((file) => fencedBlocks(file, readFileSync(join(ROOT, file), 'utf8')))
  .filter(isTypeScript);
const checked = blocks.filter((block) => !isFragment(block));

describe('code blocks in README.md and docs/', () => {
  it('finds the TypeScript blocks of README.md and of the docs pages', () => {
    expect(checked.some((block) => block.file === 'README.md')).toBe(true);
    expect(checked.some((block) => block.file.startsWith('docs/'))).toBe(true);
  });

  it('typechecks every block against the built package (one tsc run for all)', () => {
    const built = existsSync(join(ROOT, 'dist/esm/index.d.ts'));
    expect(built, 'dist/ is missing: run `npm run build`').toBe(true);
    // Inside the repository, so that the package's own name resolves through its "exports".
    const dir = mkdtempSync(join(ROOT, '.code-blocks-'));
    try {
      const sources = new Map<string, CodeBlock>();
      checked.forEach((block, index) => {
        const name = `${String(index).padStart(3, '0')}-${block.file.replaceAll('/', '-')}-L${block.fenceLine}.ts`;
        sources.set(name, block);
        writeFileSync(join(dir, name), `${block.code}\n`);
      });
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          extends: relative(dir, join(ROOT, 'tsconfig.base.json')),
          // Each block is a module of its own, even one without an import.
          compilerOptions: { noEmit: true, moduleDetection: 'force' },
          include: ['*.ts'],
        }),
      );
      const tsc = spawnSync(process.execPath, [TSC, '-p', dir, '--pretty', 'false'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      // Each diagnostic is reported at its Markdown file and line.
      const errors = `${tsc.stdout}${tsc.stderr}`
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => {
          const at = /^(?:.*[\\/])?([^\\/(]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
          const block = at && sources.get(at[1]);
          if (!at || !block) return line;
          return `${block.file}:${block.fenceLine + Number(at[2])}:${at[3]} ${at[4]}`;
        });
      expect(errors).toEqual([]);
      expect(tsc.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
