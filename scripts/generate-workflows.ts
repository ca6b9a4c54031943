// Writes infra/generated/workflows.json: every workflow's state machine as
// `cdk synth` produces it, read back as plain ASL (infra/asl.ts), for local
// mode, which runs them with no CDK at run time. `--check` exits non-zero
// when the committed file differs from a fresh synth (the test suite runs it).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../infra/app.ts';
import { extractWorkflows } from '../infra/asl.ts';

export const GENERATED_WORKFLOWS_PATH = join(
  import.meta.dirname,
  '..',
  'infra',
  'generated',
  'workflows.json',
);

/** The file's text as a synth of the app gives it now. */
export function renderWorkflows(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'bilbo-gen-workflows-'));
  try {
    const { app, stack } = buildApp({ skipBundling: true, outdir });
    const template = app.synth().getStackArtifact(stack.artifactId).template as object;
    return `${JSON.stringify(extractWorkflows(template), null, 2)}\n`;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (import.meta.filename === process.argv[1]) {
  const next = renderWorkflows();
  if (process.argv.includes('--check')) {
    if (readFileSync(GENERATED_WORKFLOWS_PATH, 'utf8') !== next) {
      console.error('infra/generated/workflows.json is stale: run `npm run gen:workflows`.');
      process.exit(1);
    }
  } else {
    writeFileSync(GENERATED_WORKFLOWS_PATH, next);
  }
}
