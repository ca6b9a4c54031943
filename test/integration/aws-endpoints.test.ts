/**
 * `bilbo local --provider ec2` and the Lambdas build their EC2 and SSM
 * clients in one place; pointed by AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL
 * at any EC2-compatible endpoint, that is where their requests go.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { awsAdapters } from '../../lambdas/adapters/aws-adapters.ts';

const seen: Array<{ host: string; body: string }> = [];
let server: Server;
let endpoint: string;
const saved = { ...process.env };

beforeAll(async () => {
  server = createServer(async (request: IncomingMessage, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    seen.push({ host: request.headers.host ?? '', body });
    // An EC2-shaped answer: the instance type asked for, as DescribeInstanceTypes returns it.
    response.writeHead(200, { 'content-type': 'text/xml' });
    response.end(
      '<DescribeInstanceTypesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId>' +
        '<instanceTypeSet><item><instanceType>m5.large</instanceType><vCpuInfo><defaultVCpus>2</defaultVCpus>' +
        '<defaultThreadsPerCore>2</defaultThreadsPerCore></vCpuInfo><memoryInfo><sizeInMiB>8192</sizeInMiB></memoryInfo>' +
        '</item></instanceTypeSet></DescribeInstanceTypesResponse>',
    );
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  process.env = { ...saved };
  seen.length = 0;
});

afterAll(() => {
  server.close();
});

function adapters() {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  return awsAdapters({
    region: 'eu-west-1',
    subnetIds: ['subnet-0a1b2c3d'],
    clusterSecurityGroupId: 'sg-0a1b2c3d',
    instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/bilbo',
    deploymentId: '5e0f4a70-9d2b-11f1-8c3e-06a1b2c3d4e5',
  });
}

describe('the AWS adapters', () => {
  it('send EC2 requests to AWS_ENDPOINT_URL_EC2', async () => {
    process.env.AWS_ENDPOINT_URL_EC2 = endpoint;

    const facts = await adapters().catalog.describe('m5.large');

    expect(facts).toMatchObject({ name: 'm5.large', vcpus: 2, threadsPerCore: 2, memoryMiB: 8192 });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.host).toBe(new URL(endpoint).host);
    expect(seen[0]?.body).toContain('Action=DescribeInstanceTypes');
  });

  it('send EC2 requests to AWS_ENDPOINT_URL when no EC2-specific endpoint is set', async () => {
    process.env.AWS_ENDPOINT_URL = endpoint;

    await adapters().catalog.describe('m5.large');

    expect(seen.map((request) => request.host)).toEqual([new URL(endpoint).host]);
  });
});
