/**
 * What a cold Lambda start pays for each bilbo function: its bundle, built
 * exactly as `cdk synth` builds it (infra/constructs/bundling.ts), and the
 * time a fresh Node process takes to import it, with the AWS SDK resolved
 * from node_modules the way the Lambda runtime provides it.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { buildApp } from '../../infra/app.ts';
import { esbuildTarget, LAMBDA_BUNDLING } from '../../infra/constructs/bundling.ts';
import { ENTRY_METADATA_KEY } from '../../infra/metadata.ts';
import { round1, type Summary, summarize } from './timing.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
/** Inside the repository, so that the bundles' external imports resolve to its node_modules. */
const BUNDLE_ROOT = join(REPO_ROOT, 'node_modules', '.cache', 'bilbo-bench');

export interface HandlerReport {
  entry: string;
  bundle_kib: number;
  /** The externals it imports: the SDK clients a cold start loads. */
  aws_sdk_imports: string[];
  import_ms: Summary;
}

interface LambdaFunction {
  entry: string;
  /** The variables the stack sets, with stand-in values for the template's tokens. */
  environment: Record<string, string>;
}

/** Every Lambda function of the stack, as the synthesized template lists it. */
async function stackFunctions(): Promise<LambdaFunction[]> {
  const outdir = await mkdtemp(join(tmpdir(), 'bilbo-bench-synth-'));
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
        const variables =
          (resource.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment
            ?.Variables ?? {};
        return [{ entry, environment: standIns(variables) }];
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
  if (name.endsWith('_ARN')) {
    return name.includes('STATE_MACHINE')
      ? `arn:aws:states:us-east-1:123456789012:stateMachine:${name.toLowerCase()}`
      : 'arn:aws:iam::123456789012:instance-profile/bilbo-bench';
  }
  if (name.includes('SUBNET')) return 'subnet-0123456789abcdef0';
  if (name.includes('SECURITY_GROUP')) return 'sg-0123456789abcdef0';
  return `bench-${name.toLowerCase()}`;
}

async function bundle(fn: LambdaFunction, outdir: string): Promise<{ file: string; sdkImports: string[] }> {
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
  const sdkImports = [
    ...new Set(
      (output?.imports ?? []).filter((i) => i.external && i.path.startsWith('@aws-sdk/')).map((i) => i.path),
    ),
  ].sort();
  return { file, sdkImports };
}

const IMPORT_SCRIPT =
  'const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));';

async function importMs(file: string, environment: Record<string, string>): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', IMPORT_SCRIPT, pathToFileURL(file).href],
    {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...environment,
      },
    },
  );
  const ms = Number(stdout);
  if (!Number.isFinite(ms)) throw new Error(`importing ${file} printed ${JSON.stringify(stdout)}`);
  return round1(ms);
}

/** Bundles every function of the stack and times its import `runs` times (after one warm-up). */
export async function measureHandlers(runs: number, log: (line: string) => void): Promise<HandlerReport[]> {
  await mkdir(BUNDLE_ROOT, { recursive: true });
  const root = await mkdtemp(join(BUNDLE_ROOT, 'run-'));
  try {
    const reports: HandlerReport[] = [];
    for (const [i, fn] of (await stackFunctions()).entries()) {
      const outdir = join(root, String(i));
      const { file, sdkImports } = await bundle(fn, outdir);
      await importMs(file, fn.environment);
      const times: number[] = [];
      for (let run = 0; run < runs; run++) times.push(await importMs(file, fn.environment));
      const report = {
        entry: fn.entry,
        bundle_kib: round1((await stat(file)).size / 1024),
        aws_sdk_imports: sdkImports,
        import_ms: summarize(times),
      };
      log(`${fn.entry}: ${report.bundle_kib} KiB, import ${report.import_ms.median} ms`);
      reports.push(report);
    }
    return reports;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
