/**
 * Destroy's unsaved-work check: a bash script run in the notebook's workdir
 * that reports what destroying the cluster would lose in its git
 * repositories, and the parser of what it prints. Pure: the script is text,
 * run by whatever runs remote commands.
 *
 * The script prints one tab-separated line per fact, the repository's path
 * (relative to the workdir, `.` for the workdir itself) always last and
 * escaped (`\\`, `\t`, `\n`, `\r`), so no name can break a line:
 *
 *   repo     <path>              a repository was checked
 *   <kind>   <count>   <path>    staged | modified | untracked | stash | unpushed
 *   error    <step>    <path>    a git command failed (its message is on stderr)
 *   nogit                        git is not installed
 *   done                         the last line: without it, the run was cut short
 */

export const UNSAVED_WORK_KINDS = ['staged', 'modified', 'untracked', 'stash', 'unpushed'] as const;

export type UnsavedWorkKind = (typeof UNSAVED_WORK_KINDS)[number];

export interface UnsavedWorkFinding {
  /** Relative to the workdir; `.` is the workdir itself. */
  repository: string;
  kind: UnsavedWorkKind;
  /** Files (staged, modified, untracked), stash entries, or commits (unpushed). */
  count: number;
}

export interface UnsavedWorkProblem {
  repository?: string;
  /** What could not be checked, e.g. `git is not installed`, `untracked: git failed`. */
  message: string;
}

export interface UnsavedWorkReport {
  /** Every repository the script looked at. */
  repositories: string[];
  findings: UnsavedWorkFinding[];
  problems: UnsavedWorkProblem[];
  /** The script printed its final `done` line: nothing was cut off. */
  complete: boolean;
}

// Bash's own `${` is written `\${` here, so that the template literal leaves it alone.
const SCRIPT = String.raw`set -uo pipefail
export GIT_OPTIONAL_LOCKS=0 GIT_TERMINAL_PROMPT=0 LC_ALL=C
shopt -s nullglob

field() {
  local text=$1
  text=\${text//\\/\\\\}
  text=\${text//$'\t'/\\t}
  text=\${text//$'\n'/\\n}
  text=\${text//$'\r'/\\r}
  printf '%s' "$text"
}
emit() {
  printf '%s\t%s\t%s\n' "$1" "$2" "$(field "$3")"
}
entries() {
  tr -cd '\0' | wc -c | tr -d ' '
}
report() {
  local kind=$1 repo=$2 n
  shift 2
  if n=$("$@"); then
    if [ "$n" -gt 0 ]; then emit "$kind" "$n" "$repo"; fi
  else
    emit error "$kind" "$repo"
  fi
}
staged() { git -C "$1" diff --cached --name-only -z | entries; }
modified() { git -C "$1" diff --name-only -z | entries; }
untracked() { git -C "$1" ls-files --others --exclude-standard -z | entries; }
stashes() { git -C "$1" stash list --format=%H | wc -l | tr -d ' '; }
unpushed() {
  local heads=(--branches)
  if git -C "$1" rev-parse -q --verify HEAD >/dev/null; then heads+=(HEAD); fi
  git -C "$1" rev-list --count "\${heads[@]}" --not --remotes
}
check() {
  printf 'repo\t%s\n' "$(field "$1")"
  report staged "$1" staged "$1"
  report modified "$1" modified "$1"
  report untracked "$1" untracked "$1"
  report stash "$1" stashes "$1"
  report unpushed "$1" unpushed "$1"
}

if ! command -v git >/dev/null; then
  printf 'nogit\n'
  printf 'done\n'
  exit 0
fi
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then check .; fi
for dotgit in */.git */*/.git; do
  check "\${dotgit%/.git}"
done
printf 'done\n'
`;

/** The check, as a bash script to run in the notebook's workdir. */
export function unsavedWorkScript(): string {
  return SCRIPT.replaceAll('\\${', '${');
}

/** What the script printed, as a report; lines it does not know are ignored. */
export function parseUnsavedWork(stdout: string): UnsavedWorkReport {
  const report: UnsavedWorkReport = { repositories: [], findings: [], problems: [], complete: false };
  const lines = stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) {
    report.complete = false;
    const fields = line.split('\t');
    const [tag] = fields;
    if (tag === 'done' && fields.length === 1) {
      report.complete = true;
    } else if (tag === 'nogit' && fields.length === 1) {
      report.problems.push({ message: 'git is not installed on the notebook instance' });
    } else if (tag === 'repo' && fields.length === 2) {
      report.repositories.push(unescapeField(fields[1]!));
    } else if (tag === 'error' && fields.length === 3) {
      report.problems.push({ repository: unescapeField(fields[2]!), message: `${fields[1]}: git failed` });
    } else if (isKind(tag) && fields.length === 3 && /^[1-9]\d*$/.test(fields[1]!)) {
      report.findings.push({ repository: unescapeField(fields[2]!), kind: tag, count: Number(fields[1]) });
    }
  }
  return report;
}

function isKind(tag: string | undefined): tag is UnsavedWorkKind {
  return (UNSAVED_WORK_KINDS as readonly (string | undefined)[]).includes(tag);
}

const ESCAPES: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r' };

function unescapeField(text: string): string {
  return text.replace(/\\([\\tnr])/g, (_match, c: string) => ESCAPES[c]!);
}
