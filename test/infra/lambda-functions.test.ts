/**
 * The deployment contract, checked from both sides: every function's entry
 * module starts with exactly the variables the stack gives it, and its
 * bundle loads only the AWS SDK clients its step uses.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lambdas/config.ts';
import { TASK_NAMES, taskEntry } from '../../lambdas/handlers/tasks/task-names.ts';
import {
  bundleFolder,
  bundleFunction,
  REPO_ROOT,
  type StackFunction,
  stackFunctions,
} from '../support/lambda-bundles.ts';

const DYNAMODB = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'];
const EC2 = '@aws-sdk/client-ec2';
const SSM = '@aws-sdk/client-ssm';
const SFN = '@aws-sdk/client-sfn';
const task = (name: string) => `lambdas/handlers/tasks/${name}.ts`;

let functions: StackFunction[];

beforeAll(async () => {
  functions = await stackFunctions();
});

describe("the stack's functions", () => {
  it('are the API and one per task of the step registry, each at its entry', () => {
    const tasks = functions.filter((fn) => fn.task !== undefined);

    expect(tasks.map((fn) => fn.task).sort()).toEqual([...TASK_NAMES].sort());
    for (const fn of tasks) expect(fn.entry).toBe(taskEntry(fn.task as (typeof TASK_NAMES)[number]));
    expect(functions.filter((fn) => fn.task === undefined).map((fn) => fn.entry)).toEqual([
      'lambdas/handlers/api.ts',
    ]);
  });

  it('each start with exactly the variables the stack gives them', async () => {
    const saved = { ...process.env };
    try {
      for (const fn of functions) {
        for (const name of Object.keys(process.env)) if (/^[A-Z_]+$/.test(name)) delete process.env[name];
        Object.assign(process.env, { PATH: saved.PATH, AWS_REGION: 'eu-west-1', ...fn.environment });
        const module = (await import(pathToFileURL(join(REPO_ROOT, fn.entry)).href)) as { handler?: unknown };
        expect(typeof module.handler, fn.entry).toBe('function');
      }
    } finally {
      process.env = saved;
    }
  });

  it('refuse to start when a variable is missing, naming it', async () => {
    const fn = functions.find((candidate) => candidate.task === 'recordDestroyed')!;
    const saved = { ...process.env };
    try {
      delete process.env.TABLE_NAME;
      process.env.AWS_REGION = 'eu-west-1';
      await expect(import(`${pathToFileURL(join(REPO_ROOT, fn.entry)).href}?missing`)).rejects.toThrow(
        ConfigurationError,
      );
    } finally {
      process.env = saved;
    }
  });
});

describe("the functions' bundles", () => {
  let folder: Awaited<ReturnType<typeof bundleFolder>>;
  let imports: Record<string, string[]>;

  beforeAll(async () => {
    folder = await bundleFolder();
    imports = {};
    for (const [i, fn] of functions.entries()) {
      imports[fn.entry] = (await bundleFunction(fn, join(folder.path, String(i)))).sdkImports;
    }
  });
  afterAll(() => folder?.remove());

  it('load only the AWS SDK clients their step uses', () => {
    expect(imports).toEqual({
      'lambdas/handlers/api.ts': [...DYNAMODB, EC2, SFN, SSM].sort(),
      [task('launch-role')]: [...DYNAMODB, EC2].sort(),
      [task('check-machines')]: [...DYNAMODB, EC2, SSM].sort(),
      // The notebook's token, from Parameter Store.
      [task('probe-ready')]: [...DYNAMODB, SSM].sort(),
      [task('run-init')]: [...DYNAMODB, SSM].sort(),
      [task('record-ready')]: DYNAMODB,
      [task('rollback-create')]: [...DYNAMODB, EC2, SSM].sort(),
      [task('terminate-machines')]: [...DYNAMODB, EC2, SSM].sort(),
      [task('record-destroyed')]: DYNAMODB,
      [task('record-destroy-failed')]: DYNAMODB,
      // systemctl through SSM Run Command.
      [task('restart-role')]: [...DYNAMODB, SSM].sort(),
      [task('check-restart')]: [...DYNAMODB, SSM].sort(),
      [task('record-restarted')]: DYNAMODB,
      [task('record-restart-failed')]: [...DYNAMODB, SSM].sort(),
      [task('stop-machines')]: [...DYNAMODB, EC2].sort(),
      [task('record-paused')]: DYNAMODB,
      [task('record-pause-failed')]: [...DYNAMODB, EC2].sort(),
      [task('start-machines')]: [...DYNAMODB, EC2].sort(),
      [task('record-resumed')]: DYNAMODB,
      [task('record-resume-failed')]: [...DYNAMODB, EC2].sort(),
      // The reaper: the records, the machines, the safety check and tokens, the workflows it starts.
      [task('sweep')]: [...DYNAMODB, EC2, SFN, SSM].sort(),
    });
  });
});
