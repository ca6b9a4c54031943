/** The variables that point the CLI at a local control plane: the one place their names are written. */

export interface KeyPair {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface PlaneAddress {
  endpoint: string;
  region: string;
  /** A key pair made for this run, when the caller had no credentials of their own. */
  credentials?: KeyPair;
}

export function endpointEnvironment(
  plane: Pick<PlaneAddress, 'endpoint' | 'region'>,
): Record<string, string> {
  return { BILBO_ENDPOINT: plane.endpoint, BILBO_REGION: plane.region };
}

export function keyPairEnvironment(keys: KeyPair): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey };
}

/** Everything a CLI process needs to talk to the plane. */
export function planeEnvironment(plane: PlaneAddress): Record<string, string> {
  return {
    ...endpointEnvironment(plane),
    ...(plane.credentials ? keyPairEnvironment(plane.credentials) : {}),
  };
}

/** `export A=1 B=2`, for a shell to eval. */
export function exportLine(variables: Record<string, string>): string {
  return `export ${Object.entries(variables)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ')}`;
}
