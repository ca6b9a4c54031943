import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';

export interface LocalCredential {
  accessKeyId: string;
  secretAccessKey: string;
  principal: string;
}

/**
 * Who may call the local API. Like API Gateway, the server knows each
 * caller's secret: the caller's own AWS credentials when the default chain
 * has some, and a key pair made for this run otherwise (printed, so a
 * newcomer without an AWS account can use the CLI).
 */
export async function localCredentials(): Promise<{ known: LocalCredential[]; generated?: LocalCredential }> {
  const principal = `local:${userInfo().username}`;
  const fromChain = await resolveDefaultChain();
  if (fromChain) return { known: [{ ...fromChain, principal }] };
  const generated = {
    accessKeyId: `AKLOCAL${randomBytes(7).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
    principal,
  };
  return { known: [generated], generated };
}

async function resolveDefaultChain(): Promise<{ accessKeyId: string; secretAccessKey: string } | undefined> {
  try {
    const credentials = await fromNodeProviderChain({ timeout: 1000, maxRetries: 0 })();
    return { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey };
  } catch {
    return undefined;
  }
}
