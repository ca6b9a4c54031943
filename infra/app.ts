import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BilboStack } from './stacks/bilbo-stack.ts';

export interface BuildAppOptions {
  /** Skip Lambda bundling (assets stay empty): for tests and local mode. @default false */
  skipBundling?: boolean;
  /** Where to write the cloud assembly. @default - CDK_OUTDIR, or a temp folder */
  outdir?: string;
}

export const STACK_ID = 'Bilbo';

/**
 * Builds the bilbo app: the one code path behind `cdk synth`, the infra
 * tests and local mode. The AwsSolutions checks run on every synth.
 */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: BilboStack } {
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    ...(options.skipBundling ? { context: { 'aws:cdk:bundling-stacks': [] } } : {}),
  });
  const stack = new BilboStack(app, STACK_ID, {
    description: 'bilbo: a team-shared control plane for Dask clusters on EC2',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
