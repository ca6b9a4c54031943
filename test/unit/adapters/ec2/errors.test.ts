import { describe, expect, it } from 'vitest';
import { isEc2Error, translateEc2Error } from '../../../../lambdas/adapters/ec2/errors.ts';
import { ProviderBusyError, ProvisioningError, ValidationError } from '../../../../lambdas/domain/errors.ts';
import { ec2Error, ec2Errors } from '../../../support/ec2-mock.ts';

const launching = { action: 'RunInstances' };

describe('translateEc2Error', () => {
  it.each([
    ['RequestLimitExceeded', 'Request limit exceeded.', 503],
    ['Throttling', 'Rate exceeded', 400],
    ['ThrottlingException', 'Rate exceeded', 400],
    ['ServiceUnavailable', 'Service Unavailable', 503],
    ['InternalError', 'An internal error has occurred', 500],
    ['SomethingNew', 'Bad gateway', 502],
  ])('reports %s as a busy provider', (code, message, status) => {
    const error = ec2Error(code, message, status);

    const translated = translateEc2Error(error, launching);

    expect(translated).toBeInstanceOf(ProviderBusyError);
    expect((translated as Error).cause).toBe(error);
  });

  it('reports a timeout or a reset connection as a busy provider', () => {
    const timeout = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

    expect(translateEc2Error(timeout, launching)).toBeInstanceOf(ProviderBusyError);
    expect(translateEc2Error(reset, launching)).toBeInstanceOf(ProviderBusyError);
  });

  it.each([
    ['InsufficientInstanceCapacity', ec2Errors.insufficientCapacity()],
    ['VcpuLimitExceeded', ec2Errors.vcpuLimit()],
    [
      'InstanceLimitExceeded',
      ec2Error('InstanceLimitExceeded', 'Your quota allows for 0 more running instance(s).'),
    ],
    [
      'Unsupported',
      ec2Error('Unsupported', 'Your requested instance type (m7g.large) is not supported in eu-west-1c.'),
    ],
  ])('fails the launch on %s, with AWS’s message', (_, error) => {
    const translated = translateEc2Error(error, launching);

    expect(translated).toBeInstanceOf(ProvisioningError);
    expect((translated as Error).message).toContain(error.message);
  });

  it('names the permission a denied call was missing', () => {
    const translated = translateEc2Error(ec2Errors.unauthorized('ec2:TerminateInstances'), {
      action: 'TerminateInstances',
    });

    expect(translated).toBeInstanceOf(ProvisioningError);
    expect((translated as Error).message).toBe(
      'bilbo may not call ec2:TerminateInstances: its role is missing ec2:TerminateInstances',
    );
  });

  it.each([
    ['InvalidAMIID.NotFound', "The image id '[ami-0abc]' does not exist", 'instance.ami'],
    ['InvalidAMIID.Malformed', 'Invalid id: "ubuntu"', 'instance.ami'],
    ['InvalidKeyPair.NotFound', "The key pair 'lost' does not exist", 'instance.keyname'],
    ['InvalidGroup.NotFound', "The security group 'sg-0abc' does not exist", 'instance.security_group'],
    ['InvalidParameterValue', "Invalid value 'm9.huge' for InstanceType.", 'instance.ec2type'],
  ])('reports %s as a bad profile value in %s', (code, message, field) => {
    const translated = translateEc2Error(ec2Error(code, message), launching);

    expect(translated).toBeInstanceOf(ValidationError);
    expect(translated).toMatchObject({ field, message: `${field}: ${message}` });
  });

  it('names the field the caller says holds the value', () => {
    const translated = translateEc2Error(
      ec2Error('InvalidKeyPair.NotFound', "The key pair 'x' does not exist"),
      {
        action: 'RunInstances',
        fieldOf: (field) => `profile.dask.scheduler.instance.${field}`,
      },
    );

    expect(translated).toMatchObject({ field: 'profile.dask.scheduler.instance.keyname' });
  });

  it('fails any other EC2 error, naming the action and keeping the cause', () => {
    const error = ec2Error(
      'InvalidParameterCombination',
      'Network interfaces and an instance-level subnet ID may not be specified on the same request',
    );

    const translated = translateEc2Error(error, launching);

    expect(translated).toBeInstanceOf(ProvisioningError);
    expect((translated as Error).message).toMatch(/^EC2 RunInstances failed: Network interfaces/);
    expect((translated as Error).cause).toBe(error);
  });

  it('leaves an error that is not EC2’s as it is', () => {
    const bug = new TypeError('Cannot read properties of undefined');

    expect(translateEc2Error(bug, launching)).toBe(bug);
  });
});

describe('isEc2Error', () => {
  it('matches a code exactly, or a family with .*', () => {
    const error = ec2Error('InvalidInstanceID.NotFound', "The instance ID 'i-0abc' does not exist");

    expect(isEc2Error(error, 'InvalidInstanceID.NotFound')).toBe(true);
    expect(isEc2Error(error, 'InvalidInstanceID.*')).toBe(true);
    expect(isEc2Error(error, 'InvalidInstanceID')).toBe(false);
    expect(isEc2Error('not an error', 'InvalidInstanceID.*')).toBe(false);
  });
});
