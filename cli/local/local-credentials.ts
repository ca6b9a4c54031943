import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { UsageError } from '../errors.ts';

export interface LocalCredential {
  accessKeyId: string;
  secretAccessKey: string;
  principal: string;
}

/** A local identity `bilbo local --users` made, with its key pair for this run. */
export interface LocalUser extends LocalCredential {
  name: string;
}

const USER_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** The principal a local identity signs as: `local:alice`. */
export function localPrincipal(nameOrPrincipal: string): string {
  return nameOrPrincipal.includes(':') ? nameOrPrincipal : `local:${nameOrPrincipal}`;
}

/**
 * Who may call the local API. Like API Gateway, the server knows each
 * caller's secret: the caller's own AWS credentials when the default chain
 * has some, and a key pair made for this run otherwise (printed, so a
 * newcomer without an AWS account can use the CLI); and one key pair per
 * extra local user, so that several people (or tests) can act as
 * different owners.
 */
export async function localCredentials(users: readonly string[] = []): Promise<{
  known: LocalCredential[];
  generated?: LocalCredential;
  users: LocalUser[];
}> {
  const me = userInfo().username;
  const bad = users.find((name) => !USER_NAME.test(name));
  if (bad !== undefined) {
    throw new UsageError(
      `--users: ${JSON.stringify(bad)} is not a user name (lower-case letters, digits, - and _, at most 32)`,
    );
  }
  const extra = [...new Set(users)].map((name) => ({ name, ...newKeyPair(localPrincipal(name)) }));
  const fromChain = await resolveDefaultChain();
  if (fromChain) return { known: [{ ...fromChain, principal: localPrincipal(me) }, ...extra], users: extra };
  const generated = newKeyPair(localPrincipal(me));
  return { known: [generated, ...extra], generated, users: extra };
}

function newKeyPair(principal: string): LocalCredential {
  return {
    accessKeyId: `AKLOCAL${randomBytes(7).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
    principal,
  };
}

async function resolveDefaultChain(): Promise<{ accessKeyId: string; secretAccessKey: string } | undefined> {
  try {
    const credentials = await fromNodeProviderChain({ timeout: 1000, maxRetries: 0 })();
    return { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey };
  } catch {
    return undefined;
  }
}
