/**
 * What `bilbo run FILE -p key=value` runs: the file copied into the working
 * folder, then a `.py` through python3 with the parameters in its
 * environment, or a `.ipynb` with the parameters injected as its first
 * cell (after the one tagged `parameters`, as papermill does) through
 * papermill where it is installed, else `python3 -m nbconvert --execute`,
 * writing `<name>.out.ipynb` beside it. Parameter values never pass through
 * a shell: they are environment values or Python literals in the notebook.
 */
import type { RunRequest } from '../../../schemas/types.generated.ts';
import { ValidationError } from '../errors.ts';
import type { RemoteScript } from '../ports.ts';

type Parameters = NonNullable<RunRequest['parameters']>;
type Value = Parameters[string];

/** The script, files and environment of a run, less what the caller decides (user, workdir, timeout). */
export type RunScript = Pick<RemoteScript, 'script' | 'files' | 'env'>;

export function runScript(run: RunRequest): RunScript {
  const content = Buffer.from(run.content, 'base64');
  const parameters = run.parameters ?? {};
  if (run.file.endsWith('.py')) {
    return {
      script: `exec "\${BILBO_PYTHON:-python3}" ${quoted(`./${run.file}`)}\n`,
      files: { [run.file]: content },
      env: Object.fromEntries(
        Object.entries(parameters).map(([key, value]) => [key, asEnvironmentValue(value)]),
      ),
    };
  }
  if (run.file.endsWith('.ipynb')) {
    const output = `${run.file.slice(0, -'.ipynb'.length)}.out.ipynb`;
    const [input, out] = [quoted(`./${run.file}`), quoted(`./${output}`)];
    return {
      script: [
        'if command -v papermill >/dev/null 2>&1; then',
        `  exec papermill ${input} ${out}`,
        'fi',
        `exec "\${BILBO_PYTHON:-python3}" -m nbconvert --to notebook --execute ${input} --output ${out}`,
        '',
      ].join('\n'),
      files: { [run.file]: Buffer.from(withParameters(content, parameters, run.file)) },
    };
  }
  throw new ValidationError(`run.file: ${run.file} is neither a notebook (.ipynb) nor a Python file (.py)`, {
    field: 'run.file',
  });
}

/** How a .py file sees a parameter: strings as they are, other values as JSON writes them (`null` as empty). */
function asEnvironmentValue(value: Value): string {
  if (value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A Python literal for a JSON value: JSON's string escapes are Python's too. */
export function pythonLiteral(value: Value): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  return JSON.stringify(value);
}

interface NotebookCell {
  cell_type: string;
  metadata?: { tags?: string[] };
  source?: string | string[];
}

/** The notebook with a cell assigning the parameters after the `parameters` cell, or first. */
function withParameters(content: Uint8Array, parameters: Parameters, file: string): string {
  let notebook: { cells?: NotebookCell[] };
  try {
    notebook = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(content));
  } catch (error) {
    throw new ValidationError(`run.content: ${file} is not a notebook (not UTF-8 JSON)`, {
      field: 'run.content',
      cause: error,
    });
  }
  if (!Array.isArray(notebook?.cells)) {
    throw new ValidationError(`run.content: ${file} is not a notebook (it has no cells)`, {
      field: 'run.content',
    });
  }
  if (Object.keys(parameters).length === 0) return JSON.stringify(notebook);
  const injected: NotebookCell & Record<string, unknown> = {
    cell_type: 'code',
    metadata: { tags: ['injected-parameters'] },
    execution_count: null,
    outputs: [],
    source: [
      '# Parameters\n',
      ...Object.entries(parameters).map(([key, value]) => `${key} = ${pythonLiteral(value)}\n`),
    ],
  };
  const after = notebook.cells.findIndex((cell) => cell.metadata?.tags?.includes('parameters'));
  notebook.cells.splice(after + 1, 0, injected);
  return JSON.stringify(notebook);
}

/** One shell word: single quotes, each `'` as `'\''`. */
export function quoted(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
