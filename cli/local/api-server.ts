import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { parseRawQuery } from '../api/sigv4-signer.ts';
import { SignatureError, verifySigV4 } from './sigv4-verifier.ts';

export interface ApiRequestLine {
  method: string;
  path: string;
  status: number;
  ms: number;
}

export interface ApiServerOptions {
  /** @default '127.0.0.1' */
  host?: '127.0.0.1';
  /** @default 0 (any free port) */
  port?: number;
  region: string;
  lookupCredentials: (accessKeyId: string) => { secretAccessKey: string; principal: string } | undefined;
  handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
  /** @default 1 MiB */
  maxBodyBytes?: number;
  /** @default () => new Date() */
  now?: () => Date;
  onRequest?: (line: ApiRequestLine) => void;
  /**
   * Requests wait for this before anything else, so the port can be bound
   * (and a busy one reported) before the rest of start-up; when it rejects,
   * they get a 503.
   */
  ready?: Promise<unknown>;
}

export interface RunningApiServer {
  url: string;
  port: number;
  /** The underlying node server, for inspection (e.g. `listening`). */
  server: Server;
  /** Stops accepting, ends idle keep-alive sockets, and resolves once every connection is closed. */
  close(): Promise<void>;
}

const MIB = 1024 * 1024;
const FUNCTION_NAME = 'bilbo-api-local';
const API_GATEWAY_TIMEOUT_MS = 29_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

class PayloadTooLarge {}

/** The client went away before its request was whole: nothing to answer, one line to log. */
class ClientGone extends Error {}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | PayloadTooLarge> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(new PayloadTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        chunks.length = 0;
        resolve(new PayloadTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    // After 'end' these are no-ops; before it, the client went away mid-body.
    req.once('error', () => reject(new ClientGone()));
    req.once('close', () => reject(new ClientGone()));
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function requestTime(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

function accountOf(principal: string): string {
  return /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(principal)?.[1] ?? '000000000000';
}

function multiValueRecord(pairs: Array<[string, string]>): {
  single: Record<string, string>;
  multi: Record<string, string[]>;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of pairs) {
    single[name] = value;
    if (Object.hasOwn(multi, name)) multi[name]!.push(value);
    else multi[name] = [value];
  }
  return { single, multi };
}

interface EventInput {
  req: IncomingMessage;
  rawPath: string;
  rawQuery: string;
  body: Buffer;
  requestId: string;
  receivedAt: Date;
  caller: { accessKeyId: string; principal: string };
}

function buildEvent({
  req,
  rawPath,
  rawQuery,
  body,
  requestId,
  receivedAt,
  caller,
}: EventInput): APIGatewayProxyEvent {
  const headerPairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
    headerPairs.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  const headers = multiValueRecord(headerPairs);
  const queryPairs = parseRawQuery(rawQuery);
  const query = multiValueRecord(queryPairs);
  // Like API Gateway REST: the path stays percent-encoded, the query is decoded.
  const path = rawPath;
  const method = req.method ?? 'GET';
  const accountId = accountOf(caller.principal);
  return {
    httpMethod: method,
    path,
    resource: path,
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: queryPairs.length > 0 ? query.single : null,
    multiValueQueryStringParameters: queryPairs.length > 0 ? query.multi : null,
    pathParameters: null,
    stageVariables: null,
    body: body.length > 0 ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId,
      apiId: 'local',
      authorizer: null,
      domainName: req.headers.host,
      httpMethod: method,
      path: `/local${path}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      requestTime: requestTime(receivedAt),
      requestTimeEpoch: receivedAt.getTime(),
      resourceId: 'local',
      resourcePath: path,
      stage: 'local',
      identity: {
        accessKey: caller.accessKeyId,
        accountId,
        apiKey: null,
        apiKeyId: null,
        caller: caller.principal,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: caller.principal,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: caller.principal,
      },
    },
  };
}

function buildContext(awsRequestId: string): Context {
  const unsupported = (): never => {
    throw new Error('Legacy Lambda context callbacks are not supported; return a promise.');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${FUNCTION_NAME}`,
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: `/aws/lambda/${FUNCTION_NAME}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => API_GATEWAY_TIMEOUT_MS,
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

function isProxyResult(value: unknown): value is APIGatewayProxyResult {
  if (typeof value !== 'object' || value === null) return false;
  const result = value as Partial<APIGatewayProxyResult>;
  return (
    Number.isInteger(result.statusCode) && (result.body === undefined || typeof result.body === 'string')
  );
}

function writeResult(
  res: ServerResponse,
  result: APIGatewayProxyResult,
  extra: Record<string, string>,
): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name.toLowerCase()] = values.map(String);
  }
  for (const [name, value] of Object.entries(result.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  headers['content-type'] ??= 'application/json';
  const body = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
  res.writeHead(result.statusCode, { ...headers, ...extra, 'content-length': String(body.length) });
  res.end(body);
}

/**
 * Serves `handler` on loopback the way API Gateway (REST, AWS_IAM auth, Lambda proxy integration) does:
 * body size limit (413), SigV4 verification (403), a REST v1 proxy event, and 502 when the handler throws.
 */
export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const host = options.host ?? '127.0.0.1';
  const maxBodyBytes = options.maxBodyBytes ?? MIB;
  const now = options.now ?? (() => new Date());
  let closing = false;

  const serve = async (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> => {
    const extra: Record<string, string> = { 'x-amzn-requestid': requestId };
    if (closing) extra.connection = 'close';
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q === -1 ? '' : rawUrl.slice(q + 1);

    const body = await readBody(req, maxBodyBytes);
    if (body instanceof PayloadTooLarge) {
      const limit = maxBodyBytes % MIB === 0 ? `${maxBodyBytes / MIB} MiB` : `${maxBodyBytes} bytes`;
      // Stop reading here: the rest of the body is discarded with the connection, never buffered.
      sendJson(
        res,
        413,
        { code: 'PAYLOAD_TOO_LARGE', message: `The request body is over ${limit}.` },
        { ...extra, connection: 'close' },
      );
      return;
    }

    if (
      options.ready &&
      !(await options.ready.then(
        () => true,
        () => false,
      ))
    ) {
      sendJson(res, 503, { code: 'UNAVAILABLE', message: 'bilbo local did not start.' }, extra);
      return;
    }
    const receivedAt = now();
    let caller: { accessKeyId: string; principal: string };
    try {
      caller = await verifySigV4(
        { method: req.method ?? 'GET', path: rawPath, rawQuery, headers: req.headers, body },
        { region: options.region, now: receivedAt, lookup: options.lookupCredentials },
      );
    } catch (error) {
      if (!(error instanceof SignatureError)) throw error;
      sendJson(res, 403, { code: error.code, message: error.message }, extra);
      return;
    }

    const event = buildEvent({ req, rawPath, rawQuery, body, requestId, receivedAt, caller });
    let result: unknown;
    try {
      result = await options.handler(event, buildContext(randomUUID()));
    } catch (error) {
      console.error(`[${FUNCTION_NAME}] request ${requestId}: the handler threw`, error);
      sendJson(res, 502, { code: 'INTERNAL', message: 'Internal server error' }, extra);
      return;
    }
    if (!isProxyResult(result)) {
      console.error(`[${FUNCTION_NAME}] request ${requestId}: malformed Lambda proxy response`);
      sendJson(res, 502, { code: 'INTERNAL', message: 'Internal server error' }, extra);
      return;
    }
    writeResult(res, result, extra);
  };

  const server = createServer((req, res) => {
    const started = performance.now();
    const requestId = randomUUID();
    res.once('finish', () => {
      options.onRequest?.({
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0]!,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      });
    });
    serve(req, res, requestId).catch((error: unknown) => {
      if (error instanceof ClientGone) {
        console.error(
          `[${FUNCTION_NAME}] request ${requestId}: the client closed the connection before sending its whole body`,
        );
        res.destroy();
        return;
      }
      console.error(`[${FUNCTION_NAME}] request ${requestId}: failed`, error);
      if (res.headersSent) res.destroy();
      else
        sendJson(res, 500, { code: 'INTERNAL', message: 'Internal server error' }, { connection: 'close' });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
