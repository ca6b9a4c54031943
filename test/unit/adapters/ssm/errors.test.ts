import { describe, expect, it } from 'vitest';
import { translateSsmError } from '../../../../lambdas/adapters/ssm/errors.ts';
import { ProviderBusyError, ProvisioningError } from '../../../../lambdas/domain/errors.ts';
import { ssmError, ssmErrors } from '../../../support/ssm-mock.ts';

const idempotent = { action: 'GetCommandInvocation', idempotent: true };
const send = { action: 'SendCommand', idempotent: false };

describe('translateSsmError', () => {
  it('makes throttling retryable for every action, keeping the cause', () => {
    const throttled = ssmErrors.throttled();

    for (const context of [idempotent, send]) {
      const translated = translateSsmError(throttled, context);
      expect(translated).toBeInstanceOf(ProviderBusyError);
      expect(translated).toMatchObject({
        cause: throttled,
        message: expect.stringContaining('Rate exceeded'),
      });
    }
  });

  it('makes a server error retryable only where sending twice does no harm', () => {
    expect(translateSsmError(ssmErrors.internal(), idempotent)).toBeInstanceOf(ProviderBusyError);
    expect(
      translateSsmError(ssmError('ServiceUnavailable', 'Service Unavailable', 503), idempotent),
    ).toBeInstanceOf(ProviderBusyError);
    expect(translateSsmError(ssmErrors.internal(), send)).toBeInstanceOf(ProvisioningError);
  });

  it('makes a network error retryable for a read', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

    expect(translateSsmError(reset, idempotent)).toBeInstanceOf(ProviderBusyError);
  });

  it('names the missing permission of a denied call', () => {
    expect(translateSsmError(ssmErrors.accessDenied(), send)).toMatchObject({
      message: expect.stringMatching(/^bilbo may not call ssm:SendCommand/),
    });
  });

  it('turns any other SSM error into ProvisioningError naming the action and code', () => {
    expect(translateSsmError(ssmErrors.invalidDocument(), send)).toMatchObject({
      message: 'SSM SendCommand failed: Document with that name does not exist. (InvalidDocument)',
    });
  });

  it('returns what is not an SSM error as it is', () => {
    const bug = new TypeError('x is undefined');

    expect(translateSsmError(bug, send)).toBe(bug);
  });
});
