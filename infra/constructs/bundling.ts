/**
 * How every bilbo Lambda is built: one runtime and one set of esbuild
 * options, used by BilboFunction and by the benchmark that measures the
 * bundles, so the two can never build different code.
 */
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

/**
 * The AWS SDK v3 ships with the Lambda runtime: bundles leave it out (CDK's
 * own default for Node runtimes, said out loud so the benchmark matches).
 */
export const LAMBDA_EXTERNAL_MODULES = ['@aws-sdk/*'];

export const LAMBDA_BUNDLING = {
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  // Bundled CommonJS dependencies still call require(); ESM has none.
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  minify: true,
  sourceMap: true,
  externalModules: LAMBDA_EXTERNAL_MODULES,
  forceDockerBundling: false,
} as const satisfies BundlingOptions;

/** The esbuild target NodejsFunction derives from the runtime (`nodejs24.x` → `node24`). */
export function esbuildTarget(runtime: Runtime = LAMBDA_RUNTIME): string {
  const major = /^nodejs(\d+)\.x$/.exec(runtime.name)?.[1];
  if (!major) throw new Error(`not a Node.js runtime: ${runtime.name}`);
  return `node${major}`;
}
