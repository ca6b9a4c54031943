/**
 * What `bilbo run` sends: the file, checked and encoded, and its parameters
 * typed the way profile overrides are (JSON when it parses, else text).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { InvalidOverrideError } from '../lambdas/domain/errors.ts';
import { parseOverride } from '../lambdas/domain/profile/overrides.ts';
import startCommandSchema from '../schemas/api/start-command.request.schema.json' with { type: 'json' };
import type { RunRequest } from '../schemas/types.generated.ts';
import { UsageError } from './errors.ts';

const RUN = startCommandSchema.definitions.runRequest.properties;
const FILE_NAME = new RegExp(RUN.file.pattern);
const [PARAMETER_PATTERN, PARAMETER_VALUE] = Object.entries(RUN.parameters.patternProperties)[0]!;
const PARAMETER_NAME = new RegExp(PARAMETER_PATTERN);
const MAX_PARAMETERS = RUN.parameters.maxProperties;
const MAX_TEXT_VALUE = PARAMETER_VALUE.maxLength;
/** The largest file whose base64 fits in the request's `content`. */
export const MAX_RUN_FILE_BYTES = Math.floor(RUN.content.maxLength / 4) * 3;

export type RunParameters = NonNullable<RunRequest['parameters']>;

/** Reads FILE and builds the `run` part of the request; every refusal comes before any request. */
export async function buildRunRequest(path: string, params: readonly string[]): Promise<RunRequest> {
  const file = basename(path);
  if (!/\.(ipynb|py)$/.test(file)) {
    throw new UsageError(
      `bilbo run takes a notebook (.ipynb) or a Python file (.py), not ${JSON.stringify(file)}`,
    );
  }
  if (!FILE_NAME.test(file)) {
    throw new UsageError(
      `${JSON.stringify(file)}: rename the file to letters, digits, ".", "_" and "-" (at most 100, starting with a letter or digit) to run it`,
    );
  }
  const parameters = parseRunParameters(params);
  const size = await fileSize(path);
  if (size > MAX_RUN_FILE_BYTES) {
    throw new UsageError(
      `${path} is ${size} bytes; bilbo run sends files of up to ${MAX_RUN_FILE_BYTES} bytes: ` +
        'put the data somewhere the cluster can read it and load it from the file',
    );
  }
  const content = (await readFile(path)).toString('base64');
  return { file, content, ...(params.length > 0 ? { parameters } : {}) };
}

/** `-p name=value` → { name: value }: numbers, booleans and null as such, anything else as text. */
export function parseRunParameters(params: readonly string[]): RunParameters {
  if (params.length > MAX_PARAMETERS) throw new UsageError(`at most ${MAX_PARAMETERS} parameters (-p)`);
  const parameters: RunParameters = {};
  for (const param of params) {
    const { name, value } = parseParameter(param);
    Object.defineProperty(parameters, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return parameters;
}

function parseParameter(param: string): { name: string; value: RunParameters[string] } {
  let parsed: ReturnType<typeof parseOverride>;
  try {
    parsed = parseOverride(param);
  } catch (cause) {
    if (!(cause instanceof InvalidOverrideError)) throw cause;
    throw new UsageError(`-p ${param}: write it as name=value, e.g. -p rows=1000`, { cause });
  }
  const name = parsed.path.join('.');
  if (parsed.path.length !== 1 || !PARAMETER_NAME.test(name)) {
    throw new UsageError(
      `-p ${param}: a parameter name is a letter or "_", then letters, digits or "_" (at most 64), e.g. rows`,
    );
  }
  const { value } = parsed;
  if (value !== null && typeof value === 'object') {
    throw new UsageError(
      `-p ${param}: a parameter is a number, true, false, null or text, not a JSON ${Array.isArray(value) ? 'list' : 'object'}; ` +
        `quote it to pass it as text: -p '${name}="..."'`,
    );
  }
  if (typeof value === 'string' && value.length > MAX_TEXT_VALUE) {
    throw new UsageError(`-p ${name}: the value is longer than ${MAX_TEXT_VALUE} characters`);
  }
  return { name, value: value as RunParameters[string] };
}

async function fileSize(path: string): Promise<number> {
  try {
    const stats = await stat(path);
    if (!stats.isFile()) throw new UsageError(`${path} is not a file`);
    return stats.size;
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    const reason =
      (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
    throw new UsageError(`cannot read ${path}: ${reason}`, { cause });
  }
}
