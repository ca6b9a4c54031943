import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app.ts';
import type { BilboStack } from '../../infra/stacks/bilbo-stack.ts';

export interface Synthesized {
  app: App;
  stack: BilboStack;
  template: Template;
  outdir: string;
  /** Removes the cloud assembly folder. */
  cleanup: () => void;
}

export interface SynthesizeOptions {
  /** @default true */
  skipBundling?: boolean;
  /** CDK context, as `cdk synth -c key=value` passes it. @default - none */
  context?: Record<string, unknown>;
}

/** Builds the real app in a temporary folder, as `cdk synth` and local mode do. */
export function synthesize({ skipBundling = true, context }: SynthesizeOptions = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'bilbo-cdk-test-'));
  const { app, stack } = buildApp({ skipBundling, outdir, ...(context ? { context } : {}) });
  return {
    app,
    stack,
    template: Template.fromStack(stack),
    outdir,
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}
