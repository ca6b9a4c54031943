import type middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { BilboError } from '../../domain/errors.ts';
import { logger } from '../logger.ts';
import { firstDuplicateKey } from './duplicate-keys.ts';
import { statusOf } from './error-status.ts';
import { InvalidJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.ts';
import { json } from './responses.ts';

type Middleware = middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;

/** Far above any valid request, far below DynamoDB's item and Step Functions' payload limits. */
export const MAX_BODY_BYTES = 64 * 1024;
/** A command's body may carry the file `bilbo run` runs (256 KiB, base64-encoded). */
export const COMMAND_BODY_MAX_BYTES = 384 * 1024;

/**
 * Parses a JSON body with middy's parser, after a size check, and turns
 * the parser's errors into ours: malformed JSON is a 400 that quotes the
 * parse error, a missing content type a 415 that says what to send.
 */
export function jsonBody(maxBytes = MAX_BODY_BYTES): Middleware {
  const parser = httpJsonBodyParser();
  return {
    before: async (request) => {
      const size = Buffer.byteLength(request.event.body ?? '');
      if (size > maxBytes) {
        throw new PayloadTooLargeError(`the request body is ${size} bytes; the limit is ${maxBytes}`);
      }
      // Header names are case-insensitive; the parser looks only for two spellings.
      const headers = request.event.headers ?? {};
      const contentType = Object.keys(headers).find((name) => name.toLowerCase() === 'content-type');
      if (contentType && contentType !== 'content-type') {
        request.event.headers = { ...headers, 'content-type': headers[contentType] };
      }
      const text = request.event.isBase64Encoded
        ? Buffer.from(request.event.body ?? '', 'base64').toString('utf8')
        : (request.event.body ?? '');
      try {
        await parser.before?.(request as never);
      } catch (error) {
        throw translateParserError(error);
      }
      const duplicate = firstDuplicateKey(text);
      if (duplicate !== undefined) {
        throw new InvalidJsonError(`${duplicate}: the field is given twice; give it once`, {
          field: duplicate,
        });
      }
    },
  };
}

function translateParserError(error: unknown): unknown {
  const message = error instanceof Error ? error.message : '';
  if (message === 'Unsupported Media Type') {
    return new UnsupportedMediaTypeError(
      'send the body as JSON with the header Content-Type: application/json',
    );
  }
  const detail = (error as { cause?: { message?: string } }).cause?.message;
  return new InvalidJsonError(`the request body is not valid JSON${detail ? `: ${detail}` : ''}`);
}

/** Replaces the parsed body with the validated, typed one. */
export function validBody<T>(validate: (body: unknown) => T): Middleware {
  return {
    before: async (request) => {
      (request.event as { body: unknown }).body = validate(request.event.body);
    },
  };
}

/**
 * Registered last, so it sees every error: domain errors become
 * `{ code, message, field }` with the status from the one table; anything
 * else is logged and answered as a 500 that leaks nothing.
 */
export function errorResponses(): Middleware {
  return {
    onError: async (request) => {
      const error = request.error;
      if (error instanceof BilboError) {
        const body = {
          code: error.code,
          message: error.message,
          ...(error.field ? { field: error.field } : {}),
        };
        request.response = json(statusOf(error), body);
        return;
      }
      logger.error('unhandled error', { error: error as Error });
      request.response = json(500, {
        code: 'INTERNAL',
        message: `internal error; quote request id ${request.context.awsRequestId} when reporting it`,
      });
    },
  };
}
