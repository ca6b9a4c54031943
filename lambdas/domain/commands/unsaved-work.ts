// Replaced by the unsaved-work check of the CLI branch (issue 8 §6) when it merges.
export function unsavedWorkScript(): string {
  return 'echo done\n';
}
