/**
 * The stack's Lambda functions as a deployment has them: each entry, the
 * variables the stack gives it (stand-in values of the same shape for the
 * template's tokens), and its bundle, built exactly as `cdk synth` builds
 * it (infra/constructs/bundling.ts). For the tests and the benchmark.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildApp } from '../../infra/app.ts';
import { esbuildTarget, LAMBDA_BUNDLING } from '../../infra/constructs/bundling.ts';
import { ENTRY_METADATA_KEY, TASK_METADATA_KEY } from '../../infra/metadata.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface StackFunction {
  entry: string;
  /** The task it runs, for a workflow step's function. */
  task?: string;
  environment: Record<string, string>;
}

/** Every Lambda function of the synthesized stack. */
export async function stackFunctions(): Promise<StackFunction[]> {
  const outdir = await mkdtemp(join(tmpdir(), 'bilbo-functions-'));
  try {
    const { app, stack } = buildApp({ skipBundling: true, outdir });
    const template = app.synth().getStackArtifact(stack.artifactId).template as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, unknown>; Properties?: unknown }>;
    };
    return Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .flatMap((resource) => {
        const entry = resource.Metadata?.[ENTRY_METADATA_KEY];
        if (typeof entry !== 'string') return [];
        const task = resource.Metadata?.[TASK_METADATA_KEY];
        const variables =
          (resource.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment
            ?.Variables ?? {};
        return [{ entry, ...(typeof task === 'string' ? { task } : {}), environment: standIns(variables) }];
      });
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

/** Literal values as they are; CloudFormation tokens as values of the same shape. */
function standIns(variables: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [
      name,
      typeof value === 'string' ? value : standInFor(name),
    ]),
  );
}

function standInFor(name: string): string {
  if (name.endsWith('STATE_MACHINE_ARN')) {
    return `arn:aws:states:us-east-1:123456789012:stateMachine:${name.toLowerCase()}`;
  }
  if (name.endsWith('_ARN')) return 'arn:aws:iam::123456789012:instance-profile/bilbo-stand-in';
  if (name.includes('SUBNET')) return 'subnet-0123456789abcdef0,subnet-0fedcba9876543210';
  if (name.includes('SECURITY_GROUP')) return 'sg-0123456789abcdef0';
  return `bilbo-stand-in-${name.toLowerCase().replaceAll('_', '-')}`;
}

export interface LambdaBundle {
  file: string;
  /** The AWS SDK packages it imports, which the Lambda runtime provides. */
  sdkImports: string[];
}

/** Bundles the function into `outdir/index.mjs`, as the stack does. */
export async function bundleFunction(fn: StackFunction, outdir: string): Promise<LambdaBundle> {
  const file = join(outdir, 'index.mjs');
  const result = await build({
    entryPoints: [join(REPO_ROOT, fn.entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: esbuildTarget(),
    format: 'esm',
    mainFields: [...LAMBDA_BUNDLING.mainFields],
    banner: { js: LAMBDA_BUNDLING.banner },
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourceMap,
    external: [...LAMBDA_BUNDLING.externalModules],
    metafile: true,
    logLevel: 'silent',
  });
  const output = Object.values(result.metafile.outputs).find((out) => out.entryPoint !== undefined);
  const sdkImports = (output?.imports ?? [])
    .filter((imported) => imported.external && imported.path.startsWith('@aws-sdk/'))
    .map((imported) => imported.path);
  return { file, sdkImports: [...new Set(sdkImports)].sort() };
}

/** A folder for bundles inside the repository, so that their external imports resolve to its node_modules. */
export async function bundleFolder(): Promise<{ path: string; remove: () => Promise<void> }> {
  const root = join(REPO_ROOT, 'node_modules', '.cache', 'bilbo-bundles');
  await mkdir(root, { recursive: true });
  const path = await mkdtemp(join(root, 'run-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
