import {
  DeleteParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  type Parameter,
  ParameterLimitExceeded,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
  ThrottlingException,
  TooManyUpdates,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SsmSecretStore } from '../../../lambdas/adapters/ssm/secret-store.ts';
import { ProviderBusyError } from '../../../lambdas/domain/errors.ts';

const ssm = mockClient(SSMClient);
const client = new SSMClient({ region: 'eu-west-1' });

/** A parameter as GetParametersByPath describes it (WithDecryption false: the value stays encrypted). */
function parameter(name: string): Parameter {
  return {
    Name: name,
    Type: 'SecureString',
    Value: 'AQICAHh...encrypted',
    Version: 1,
    LastModifiedDate: new Date('2026-11-28T10:00:00Z'),
    ARN: `arn:aws:ssm:eu-west-1:123456789012:parameter${name}`,
    DataType: 'text',
  };
}

function namesOf(count: number, clusterId = 'c-0123456789abcdef'): string[] {
  return Array.from({ length: count }, (_, i) => `/bilbo/clusters/${clusterId}/key-${i}`);
}

describe('SsmSecretStore', () => {
  beforeEach(() => {
    ssm.reset();
  });

  describe('nameOf', () => {
    it('names a secret <prefix>/<clusterId>/<key> under /bilbo/clusters by default', () => {
      const store = new SsmSecretStore({ client });
      expect(store.nameOf('c-0123456789abcdef', 'jupyter-token')).toBe(
        '/bilbo/clusters/c-0123456789abcdef/jupyter-token',
      );
    });

    it('uses the given prefix, without a doubled slash', () => {
      const store = new SsmSecretStore({ client, prefix: '/team-a/bilbo/' });
      expect(store.nameOf('c-1', 'git-password')).toBe('/team-a/bilbo/c-1/git-password');
    });
  });

  describe('read', () => {
    it('reads the decrypted value by name', async () => {
      ssm.on(GetParameterCommand).resolves({
        Parameter: { ...parameter('/bilbo/clusters/c-1/jupyter-token'), Value: 'tok-123' },
      });
      const store = new SsmSecretStore({ client });

      await expect(store.read('/bilbo/clusters/c-1/jupyter-token')).resolves.toBe('tok-123');
      expect(ssm.commandCalls(GetParameterCommand)[0]!.args[0].input).toEqual({
        Name: '/bilbo/clusters/c-1/jupyter-token',
        WithDecryption: true,
      });
    });

    it('answers undefined for a secret that does not exist', async () => {
      ssm
        .on(GetParameterCommand)
        .rejects(new ParameterNotFound({ message: 'not found', $metadata: { httpStatusCode: 400 } }));
      await expect(new SsmSecretStore({ client }).read('/bilbo/clusters/c-1/gone')).resolves.toBeUndefined();
    });

    it('reports throttling as busy, for the caller to retry', async () => {
      ssm.on(GetParameterCommand).rejects(
        new ThrottlingException({
          message: 'Rate exceeded',
          Message: 'Rate exceeded',
          $metadata: { httpStatusCode: 400 },
        }),
      );
      await expect(new SsmSecretStore({ client }).read('/bilbo/clusters/c-1/x')).rejects.toBeInstanceOf(
        ProviderBusyError,
      );
    });
  });

  describe('put', () => {
    it('writes a standard-tier SecureString that overwrites, with no tags, and answers its name', async () => {
      ssm.on(PutParameterCommand).resolves({ Version: 1, Tier: 'Standard' });
      const store = new SsmSecretStore({ client });

      const name = await store.put('c-1', 'git-password', 'hunter2');

      expect(name).toBe('/bilbo/clusters/c-1/git-password');
      const calls = ssm.commandCalls(PutParameterCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]!.args[0].input).toEqual({
        Name: '/bilbo/clusters/c-1/git-password',
        Value: 'hunter2',
        Type: 'SecureString',
        Overwrite: true,
        Tier: 'Standard',
      });
    });

    it('encrypts with the given KMS key', async () => {
      ssm.on(PutParameterCommand).resolves({ Version: 2, Tier: 'Standard' });
      const store = new SsmSecretStore({ client, kmsKeyId: 'alias/bilbo-secrets' });

      await store.put('c-1', 'jupyter-token', 'token');

      expect(ssm.commandCalls(PutParameterCommand)[0]!.args[0].input.KeyId).toBe('alias/bilbo-secrets');
    });

    it('turns throttling into ProviderBusyError, keeping the cause', async () => {
      const throttled = new ThrottlingException({
        message: 'Rate exceeded',
        Message: 'Rate exceeded',
        $metadata: {},
      });
      ssm.on(PutParameterCommand).rejects(throttled);
      const store = new SsmSecretStore({ client });

      await expect(store.put('c-1', 'jupyter-token', 'token')).rejects.toThrow(ProviderBusyError);
      await expect(store.put('c-1', 'jupyter-token', 'token')).rejects.toMatchObject({ cause: throttled });
    });

    it('turns TooManyUpdates into ProviderBusyError', async () => {
      ssm
        .on(PutParameterCommand)
        .rejects(
          new TooManyUpdates({ message: 'There are concurrent updates for the resource', $metadata: {} }),
        );
      const store = new SsmSecretStore({ client });

      await expect(store.put('c-1', 'jupyter-token', 'token')).rejects.toThrow(ProviderBusyError);
    });

    it('passes any other error on unchanged', async () => {
      ssm
        .on(PutParameterCommand)
        .rejects(new ParameterLimitExceeded({ message: 'Parameter limit exceeded', $metadata: {} }));
      const store = new SsmSecretStore({ client });

      await expect(store.put('c-1', 'jupyter-token', 'token')).rejects.toThrow(ParameterLimitExceeded);
    });
  });

  describe('removeAll', () => {
    it('lists the cluster’s path recursively and deletes what it finds', async () => {
      ssm.on(GetParametersByPathCommand).resolves({
        Parameters: [
          parameter('/bilbo/clusters/c-1/jupyter-token'),
          parameter('/bilbo/clusters/c-1/git-password'),
        ],
      });
      ssm.on(DeleteParametersCommand).resolves({
        DeletedParameters: ['/bilbo/clusters/c-1/jupyter-token', '/bilbo/clusters/c-1/git-password'],
        InvalidParameters: [],
      });

      await new SsmSecretStore({ client }).removeAll('c-1');

      expect(ssm.commandCalls(GetParametersByPathCommand)[0]!.args[0].input).toEqual({
        Path: '/bilbo/clusters/c-1',
        Recursive: true,
        WithDecryption: false,
        MaxResults: 10,
      });
      const deletes = ssm.commandCalls(DeleteParametersCommand);
      expect(deletes.map((call) => call.args[0].input.Names)).toEqual([
        ['/bilbo/clusters/c-1/jupyter-token', '/bilbo/clusters/c-1/git-password'],
      ]);
    });

    it('follows NextToken through every page before deleting', async () => {
      const names = namesOf(23);
      ssm
        .on(GetParametersByPathCommand)
        .resolvesOnce({ Parameters: names.slice(0, 10).map(parameter), NextToken: 'page-2' })
        .resolvesOnce({ Parameters: names.slice(10, 20).map(parameter), NextToken: 'page-3' })
        .resolvesOnce({ Parameters: names.slice(20).map(parameter) });
      ssm.on(DeleteParametersCommand).resolves({ DeletedParameters: [], InvalidParameters: [] });

      await new SsmSecretStore({ client }).removeAll('c-0123456789abcdef');

      const pages = ssm.commandCalls(GetParametersByPathCommand).map((call) => call.args[0].input.NextToken);
      expect(pages).toEqual([undefined, 'page-2', 'page-3']);
      const deleted = ssm.commandCalls(DeleteParametersCommand).flatMap((call) => call.args[0].input.Names);
      expect(deleted).toEqual(names);
    });

    it('deletes in batches of at most 10 names, the API’s limit', async () => {
      const names = namesOf(23);
      ssm.on(GetParametersByPathCommand).resolves({ Parameters: names.map(parameter) });
      ssm.on(DeleteParametersCommand).resolves({ DeletedParameters: [], InvalidParameters: [] });

      await new SsmSecretStore({ client }).removeAll('c-0123456789abcdef');

      const batches = ssm.commandCalls(DeleteParametersCommand).map((call) => call.args[0].input.Names);
      expect(batches.map((batch) => batch?.length)).toEqual([10, 10, 3]);
      expect(batches.flat()).toEqual(names);
    });

    it('does nothing, without error, when the cluster has no secrets', async () => {
      ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });

      await expect(new SsmSecretStore({ client }).removeAll('c-1')).resolves.toBeUndefined();

      expect(ssm.commandCalls(DeleteParametersCommand)).toHaveLength(0);
    });

    it('accepts names that vanished meanwhile (InvalidParameters in the answer)', async () => {
      ssm.on(GetParametersByPathCommand).resolves({
        Parameters: [parameter('/bilbo/clusters/c-1/jupyter-token')],
      });
      ssm.on(DeleteParametersCommand).resolves({
        DeletedParameters: [],
        InvalidParameters: ['/bilbo/clusters/c-1/jupyter-token'],
      });

      await expect(new SsmSecretStore({ client }).removeAll('c-1')).resolves.toBeUndefined();
    });

    it('is idempotent: a second removal finds nothing and deletes nothing', async () => {
      ssm
        .on(GetParametersByPathCommand)
        .resolvesOnce({ Parameters: [parameter('/bilbo/clusters/c-1/jupyter-token')] })
        .resolves({ Parameters: [] });
      ssm.on(DeleteParametersCommand).resolves({ DeletedParameters: ['/bilbo/clusters/c-1/jupyter-token'] });
      const store = new SsmSecretStore({ client });

      await store.removeAll('c-1');
      await store.removeAll('c-1');

      expect(ssm.commandCalls(GetParametersByPathCommand)).toHaveLength(2);
      expect(ssm.commandCalls(DeleteParametersCommand)).toHaveLength(1);
    });

    it('lists only under the configured prefix', async () => {
      ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });

      await new SsmSecretStore({ client, prefix: '/team-a/bilbo' }).removeAll('c-1');

      expect(ssm.commandCalls(GetParametersByPathCommand)[0]!.args[0].input.Path).toBe('/team-a/bilbo/c-1');
    });

    it('turns throttled listing and deleting into ProviderBusyError', async () => {
      ssm
        .on(GetParametersByPathCommand)
        .rejectsOnce(
          new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: {} }),
        )
        .resolves({ Parameters: [parameter('/bilbo/clusters/c-1/jupyter-token')] });
      ssm
        .on(DeleteParametersCommand)
        .rejects(
          new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: {} }),
        );
      const store = new SsmSecretStore({ client });

      await expect(store.removeAll('c-1')).rejects.toThrow(ProviderBusyError);
      await expect(store.removeAll('c-1')).rejects.toThrow(ProviderBusyError);
      expect(ssm.commandCalls(DeleteParametersCommand)).toHaveLength(1);
    });
  });
});
