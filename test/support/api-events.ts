/**
 * REST API (v1) proxy events and Lambda contexts for calling the API
 * handler directly, shaped as API Gateway sends them with AWS_IAM auth:
 * `path` stays percent-encoded as the client sent it, headers keep the
 * client's letter case, and the caller is the IAM principal in
 * `requestContext.identity`.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

export const ALICE_ARN = 'arn:aws:iam::123456789012:user/alice';
export const BOB_ARN = 'arn:aws:iam::123456789012:user/bob';
/** The deployment's admin in the API tests: a role, whose sessions are callers as the role. */
export const ADMIN_ROLE_ARN = 'arn:aws:iam::123456789012:role/ops/bilbo-admin';
export const ADMIN_SESSION_ARN = 'arn:aws:sts::123456789012:assumed-role/bilbo-admin/carol';

export interface ApiRequest {
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  /** @default 'application/json' when there is a body; null sends no content type */
  contentType?: string | null;
  /** The name of the content-type header. @default 'content-type' */
  contentTypeHeader?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  /** The caller's IAM principal ARN. @default ALICE_ARN */
  caller?: string;
  /** What API Gateway's resource match put there (it decodes them); the router fills them otherwise. */
  pathParameters?: Record<string, string>;
}

export function apiEvent(method: string, path: string, request: ApiRequest = {}): APIGatewayProxyEvent {
  const body =
    request.body === undefined
      ? null
      : typeof request.body === 'string'
        ? request.body
        : JSON.stringify(request.body);
  const contentType =
    request.contentType === undefined && body !== null ? 'application/json' : request.contentType;
  const headers: Record<string, string> = {
    Host: 'abc123.execute-api.eu-west-1.amazonaws.com',
    'User-Agent': 'bilbo-test',
    ...(contentType ? { [request.contentTypeHeader ?? 'content-type']: contentType } : {}),
    ...request.headers,
  };
  const caller = request.caller ?? ALICE_ARN;
  const accountId = /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(caller)?.[1] ?? '123456789012';
  const query = request.query ?? null;
  const requestTimeEpoch = Date.parse('2026-01-01T00:00:00.000Z');
  return {
    httpMethod: method,
    path,
    resource: path,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: query,
    multiValueQueryStringParameters: query
      ? Object.fromEntries(Object.entries(query).map(([name, value]) => [name, [value]]))
      : null,
    pathParameters: request.pathParameters ?? null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId,
      apiId: 'abc123',
      authorizer: null,
      domainName: headers.Host,
      httpMethod: method,
      path: `/prod${path}`,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTime: '01/Jan/2026:00:00:00 +0000',
      requestTimeEpoch,
      resourceId: 'abc123',
      resourcePath: path,
      stage: 'prod',
      identity: {
        accessKey: 'AKIAEXAMPLEEXAMPLE01',
        accountId,
        apiKey: null,
        apiKeyId: null,
        caller: `AIDAEXAMPLE:${caller.split('/').pop()}`,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '203.0.113.7',
        user: `AIDAEXAMPLE:${caller.split('/').pop()}`,
        userAgent: 'bilbo-test',
        userArn: caller,
      },
    },
  };
}

export function lambdaContext(awsRequestId: string = randomUUID()): Context {
  const legacy = (): never => {
    throw new Error('legacy Lambda callbacks are not used');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'bilbo-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:bilbo-api',
    memoryLimitInMB: '512',
    awsRequestId,
    logGroupName: '/aws/lambda/bilbo-api',
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 29_000,
    done: legacy,
    fail: legacy,
    succeed: legacy,
  };
}

export interface ApiAnswer<T = unknown> {
  status: number;
  headers: Record<string, unknown>;
  /** The body parsed as JSON. */
  body: T;
  requestId: string;
}

type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Calls the handler with a fresh event and context and parses its JSON answer. */
export async function callApi<T = unknown>(
  handler: ApiHandler,
  method: string,
  path: string,
  request: ApiRequest = {},
): Promise<ApiAnswer<T>> {
  const context = lambdaContext();
  const result = await handler(apiEvent(method, path, request), context);
  return {
    status: result.statusCode,
    headers: result.headers ?? {},
    body: JSON.parse(result.body) as T,
    requestId: context.awsRequestId,
  };
}
