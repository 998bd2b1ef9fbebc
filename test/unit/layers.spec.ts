import { describe, expect, it } from 'vitest';
import {
  addonViolations,
  importsOf,
  layerViolations,
  toolsViolations,
} from '../../scripts/check-layers.mjs';

describe('the layer check of npm run lint', () => {
  it('reads static, type-only, re-exported and dynamic imports', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      "const e = await import('./e.js');",
      "import 'reflect-metadata';",
      'import {',
      '  f,',
      "} from './f.js';",
    ].join('\n');
    expect(importsOf(source)).toEqual([
      './a.js',
      '../b.js',
      './c.js',
      './d.js',
      './e.js',
      'reflect-metadata',
      './f.js',
    ]);
  });

  it('passes a store that imports utils and messages, and an election that imports a store', () => {
    const files = new Map([
      [
        'lib/core/store/x.store.ts',
        "import { t } from '../utils/promise-timeout.js';\nimport * as m from '../kettle.messages.js';",
      ],
      ['lib/core/election/e.ts', "import { s } from '../store/x.store.js';"],
    ]);
    expect(layerViolations(files)).toEqual([]);
  });

  it('refuses a store that imports upward, naming the file and the import', () => {
    const files = new Map([
      [
        'lib/core/store/redis.store.ts',
        "import { resolveKettleOptions } from '../options/resolve-options.js';",
      ],
      [
        'lib/core/store/memory.store.ts',
        "import type { Election } from '../election/election.js';",
      ],
    ]);
    expect(layerViolations(files)).toEqual([
      'lib/core/store/redis.store.ts: imports ../options/resolve-options.js, a room above its own (lib/core/options/)',
      'lib/core/store/memory.store.ts: imports ../election/election.js, a room above its own (lib/core/election/)',
    ]);
  });

  it('refuses Nest, rxjs and reflect-metadata in the core, and imports out of it', () => {
    const files = new Map([
      [
        'lib/core/kettle.ts',
        "import { Injectable } from '@nestjs/common';\nimport { Subject } from 'rxjs';\nimport 'reflect-metadata';\nimport { KETTLE_STORE } from '../kettle.constants.js';",
      ],
    ]);
    expect(layerViolations(files)).toEqual([
      'lib/core/kettle.ts: imports @nestjs/common, which only the Nest layer may use',
      'lib/core/kettle.ts: imports rxjs, which only the Nest layer may use',
      'lib/core/kettle.ts: imports reflect-metadata, which only the Nest layer may use',
      'lib/core/kettle.ts: imports ../kettle.constants.js, outside lib/core',
    ]);
  });

  it('names a core file that no room holds', () => {
    expect(layerViolations(new Map([['lib/core/stray.ts', '']]))).toEqual([
      'lib/core/stray.ts: not in any room of lib/core; add it to CORE_ROOMS',
    ]);
  });

  it('leaves the Nest layer free to import the core and Nest', () => {
    const files = new Map([
      [
        'lib/kettle.service.ts',
        "import { Injectable } from '@nestjs/common';\nimport { Kettle } from './core/kettle.js';",
      ],
    ]);
    expect(layerViolations(files)).toEqual([]);
  });

  it('keeps tools/ out of lib/ and the sample app, and lets the demo, tests and bench use it', () => {
    const files = new Map([
      ['lib/core/kettle.ts', "import { sleep } from '#tools/wait.js';"],
      ['lib/health/x.ts', "import { sleep } from '../../tools/wait.js';"],
      ['sample/src/main.ts', "import { RedisServer } from '#tools/redis-server.js';"],
      ['sample/src/demo/main.ts', "import { children } from '#tools/children.js';"],
      ['test/x.spec.ts', "import { sleep } from '#tools/wait.js';"],
      ['bench/src/run.ts', "import { RedisServer } from '#tools/redis-server.js';"],
    ]);
    expect(toolsViolations(files)).toEqual([
      'lib/core/kettle.ts: imports #tools/wait.js, from the dev harness in tools/',
      'lib/health/x.ts: imports ../../tools/wait.js, from the dev harness in tools/',
      'sample/src/main.ts: imports #tools/redis-server.js, from the dev harness in tools/',
    ]);
  });

  it('lets the otel and prometheus entries import the core index and its messages, nothing else', () => {
    const files = new Map([
      [
        'lib/otel/index.ts',
        "import { metrics } from '@opentelemetry/api';\nimport type { Kettle } from '../core/index.js';\nimport { invalidOption } from '../core/kettle.messages.js';\nimport { x } from './x.js';",
      ],
      ['lib/prometheus/index.ts', "import type { Election } from '../core/election/election.js';"],
      ['lib/otel/nest.ts', "import { Injectable } from '@nestjs/common';"],
      ['lib/prometheus/x.ts', "import { KettleService } from '../kettle.service.js';"],
    ]);
    expect(addonViolations(files)).toEqual([
      'lib/prometheus/index.ts: imports ../core/election/election.js; an addon imports only lib/core/index.ts and kettle.messages.ts',
      'lib/otel/nest.ts: imports @nestjs/common, which only the Nest layer may use',
      'lib/prometheus/x.ts: imports ../kettle.service.js; an addon imports only lib/core/index.ts and kettle.messages.ts',
    ]);
  });
});
