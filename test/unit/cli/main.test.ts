import { describe, expect, it } from 'vitest';
import {
  ApiRequestError,
  ApiUnreachableError,
  AuthError,
  CancelledError,
  ClusterFailedError,
  exitCodeFor,
  UsageError,
} from '../../../cli/errors.ts';
import { main } from '../../../cli/main.ts';
import { ValidationError } from '../../../lambdas/domain/errors.ts';
import { fakeFactory } from './fakes.ts';

async function exitCodeWhenRunThrows(error: unknown) {
  const fake = fakeFactory();
  const code = await main(['ls'], fake.f, async () => {
    throw error;
  });
  return { code, stderr: fake.stderr.text, stdout: fake.stdout.text };
}

describe('main', () => {
  it('exits 0 when the command succeeds', async () => {
    const fake = fakeFactory();
    expect(await main(['version'], fake.f)).toBe(0);
    expect(fake.stdout.text).toBe('bilbo 1.2.3\n');
  });

  it('exits 1 on an API error and prints its message on stderr', async () => {
    const result = await exitCodeWhenRunThrows(
      new ApiRequestError(404, 'CLUSTER_NOT_FOUND', 'No cluster named "x".'),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: No cluster named "x".\n');
    expect(result.stdout).toBe('');
  });

  it('exits 1 on a failed cluster, an unreachable API, a usage error and a domain error', async () => {
    for (const error of [
      new ClusterFailedError('a', 'launch', 'no capacity'),
      new ApiUnreachableError('http://127.0.0.1:1'),
      new UsageError('destroy needs -f (--force) when not run from a terminal'),
      new ValidationError('dask.worker.count: must be >= 1'),
      new Error('a bug'),
    ]) {
      expect((await exitCodeWhenRunThrows(error)).code).toBe(1);
    }
  });

  it('exits 2 when the user cancels', async () => {
    const result = await exitCodeWhenRunThrows(new CancelledError('cluster a was not destroyed'));
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('cluster a was not destroyed\n');
  });

  it('exits 4 on an authentication problem', async () => {
    expect((await exitCodeWhenRunThrows(new AuthError('the bilbo API refused the request'))).code).toBe(4);
  });

  it('exits 1 on an unknown flag, with commander printing the only message', async () => {
    const fake = fakeFactory();
    expect(await main(['ls', '--bogus'], fake.f, async () => {})).toBe(1);
    expect(fake.stderr.text.match(/error:/g)).toHaveLength(1);
  });

  it('exits 1 on an unknown command', async () => {
    const fake = fakeFactory();
    expect(await main(['launch'], fake.f, async () => {})).toBe(1);
    expect(fake.stderr.text).toContain("unknown command 'launch'");
  });

  it('exits 0 after printing help', async () => {
    const fake = fakeFactory();
    expect(await main(['--help'], fake.f, async () => {})).toBe(0);
    expect(fake.stdout.text).toContain('Usage: bilbo');
  });

  it('prints the version with --version', async () => {
    const fake = fakeFactory();
    expect(await main(['--version'], fake.f)).toBe(0);
    expect(fake.stdout.text).toBe('1.2.3\n');
  });
});

describe('exitCodeFor', () => {
  it('maps each error family to its exit code', () => {
    expect(exitCodeFor(new CancelledError('x'))).toBe(2);
    expect(exitCodeFor(new AuthError('x'))).toBe(4);
    expect(exitCodeFor(new ApiRequestError(409, 'CLUSTER_EXISTS', 'x', 'name'))).toBe(1);
    expect(exitCodeFor('not even an error')).toBe(1);
  });
});
