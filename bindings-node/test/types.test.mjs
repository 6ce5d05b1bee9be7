// The TypeScript declarations type-check against real use (tsc --noEmit, strict), once per
// run of the native backend (they do not depend on the backend).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { backendName, root } from './backend.mjs';

test('TypeScript declarations type-check', (t) => {
  if (backendName !== 'native') {
    t.skip('checked in the native run');
    return;
  }
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    t.skip('typescript not installed (bash scripts/node-env.sh)');
    return;
  }
  const out = spawnSync(process.execPath, [tsc, '-p', join(root, 'bindings-node', 'test', 'types')], {
    encoding: 'utf8',
  });
  assert.equal(out.status, 0, out.stdout + out.stderr);
});
