/**
 * The shape of the code, checked: what is specific to a cluster kind lives
 * in that kind's folder (lambdas/domain/kinds/<kind>/), and the domain
 * stays free of the outside world.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KINDS } from '../../lambdas/domain/kinds/index.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

function sourcesUnder(folder: string): string[] {
  const path = join(REPO_ROOT, folder);
  return readdirSync(path).flatMap((entry) => {
    const full = join(path, entry);
    if (statSync(full).isDirectory()) return sourcesUnder(relative(REPO_ROOT, full));
    return entry.endsWith('.ts') ? [relative(REPO_ROOT, full)] : [];
  });
}

/** Modules that must speak of roles, ports and endpoints only: no kind's names or numbers. */
const KIND_NEUTRAL = [
  ...sourcesUnder('lambdas').filter(
    (file) =>
      !file.startsWith('lambdas/domain/kinds/') &&
      // The profile format is the original bilbo's, whose sections name the kinds.
      !file.startsWith('lambdas/domain/profile/'),
  ),
  ...sourcesUnder('infra/constructs'),
  ...sourcesUnder('infra/workflows'),
];

/** What only a kind may know: Dask's names, endpoints and port numbers. */
const KIND_SPECIFIC = [
  /\bdask\b(?!-gateway)/i,
  /scheduler/i,
  /jupyter/i,
  /identity\.json/,
  /\b(8786|8787|8888)\b/,
];

describe('the kind-neutral modules', () => {
  it('are the workflow steps, ports, providers, probe, handlers and the stack', () => {
    for (const file of [
      'lambdas/domain/ports.ts',
      'lambdas/domain/plan.ts',
      'lambdas/domain/workflow/launch-role.ts',
      'lambdas/domain/workflow/check-machines.ts',
      'lambdas/domain/workflow/probe-ready.ts',
      'lambdas/adapters/http/readiness-probe.ts',
      'lambdas/adapters/local/process-provider.ts',
      'lambdas/adapters/ec2/ec2-provider.ts',
      'lambdas/adapters/ec2/preflight.ts',
      'infra/constructs/cluster-network.ts',
      'infra/workflows/create.ts',
    ]) {
      expect(KIND_NEUTRAL).toContain(file);
    }
  });

  it.each(KIND_NEUTRAL)('%s names no kind-specific thing', (file) => {
    const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
    const found = lines.flatMap((line, i) =>
      KIND_SPECIFIC.some((pattern) => pattern.test(line)) ? [`${i + 1}: ${line.trim()}`] : [],
    );

    expect(found).toEqual([]);
  });
});

describe('the kinds', () => {
  it('each have one folder, and each folder is a registered kind', () => {
    const folders = readdirSync(join(REPO_ROOT, 'lambdas/domain/kinds'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);

    expect(folders.sort()).toEqual(Object.keys(KINDS).sort());
  });
});

describe('the domain', () => {
  it.each(sourcesUnder('lambdas/domain'))('%s imports no AWS SDK and reads no environment', (file) => {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');

    expect(text).not.toMatch(/from '@aws-sdk\//);
    expect(text).not.toMatch(/process\.env/);
  });
});
