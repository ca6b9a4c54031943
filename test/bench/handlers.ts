/**
 * What a cold Lambda start pays for each bilbo function: its bundle, built
 * exactly as `cdk synth` builds it, and the time a fresh Node process takes
 * to import it, with the AWS SDK resolved from node_modules the way the
 * Lambda runtime provides it and the variables the stack gives it set.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { bundleFolder, bundleFunction, stackFunctions } from '../support/lambda-bundles.ts';
import { round1, type Summary, summarize } from './timing.ts';

export interface HandlerReport {
  entry: string;
  bundle_kib: number;
  /** The externals it imports: the SDK clients a cold start loads. */
  aws_sdk_imports: string[];
  import_ms: Summary;
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
  const folder = await bundleFolder();
  try {
    const reports: HandlerReport[] = [];
    for (const [i, fn] of (await stackFunctions()).entries()) {
      const { file, sdkImports } = await bundleFunction(fn, join(folder.path, String(i)));
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
    await folder.remove();
  }
}
