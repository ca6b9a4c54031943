import type { Writable } from 'node:stream';
import type { CommandInvocation, InvocationOutput } from '../schemas/types.generated.ts';

/** Where a command's output goes, chunk by chunk, in the order it arrives. */
export interface OutputSink {
  write(output: readonly InvocationOutput[], invocations: readonly CommandInvocation[]): void;
  /** The command has ended (or following stopped): write what is still held back. */
  end(): void;
}

/** `worker-2`: how output, summaries and messages name an invocation. */
export function invocationLabel(invocation: Pick<CommandInvocation, 'role' | 'index'>): string {
  return `${invocation.role}-${invocation.index}`;
}

/** A partial line longer than this is written out without waiting for its end. */
const MAX_HELD_LINE = 64 * 1024;

/**
 * Writes each invocation's stdout and stderr to `stdout` and `stderr`. With
 * one invocation, byte for byte as it comes, so pipes see exactly what the
 * command wrote. With several, line by line, each line prefixed with
 * `[role-index] `, so that lines of different instances never interleave
 * and each says where it came from; a last line without a newline gets one.
 */
export function createStreamSink(streams: { stdout: Writable; stderr: Writable }): OutputSink {
  let chosen: OutputSink | undefined;
  return {
    write(output, invocations) {
      chosen ??= invocations.length > 1 ? prefixingSink(streams) : verbatimSink(streams);
      chosen.write(output, invocations);
    },
    end() {
      chosen?.end();
    },
  };
}

function verbatimSink(streams: { stdout: Writable; stderr: Writable }): OutputSink {
  return {
    write(output) {
      for (const chunk of output) {
        if (chunk.stdout !== '') streams.stdout.write(chunk.stdout);
        if (chunk.stderr !== '') streams.stderr.write(chunk.stderr);
      }
    },
    end() {},
  };
}

function prefixingSink(streams: { stdout: Writable; stderr: Writable }): OutputSink {
  const held = new Map<string, { stream: Writable; prefix: string; text: string }>();
  const hold = (key: string, stream: Writable, prefix: string, text: string) => {
    const entry = held.get(key) ?? { stream, prefix, text: '' };
    held.set(key, entry);
    const lines = (entry.text + text).split('\n');
    entry.text = lines.pop()!;
    if (entry.text.length > MAX_HELD_LINE) {
      lines.push(entry.text);
      entry.text = '';
    }
    if (lines.length > 0) stream.write(lines.map((line) => `${prefix}${line}\n`).join(''));
  };
  return {
    write(output, invocations) {
      for (const chunk of output) {
        const invocation = invocations.find((i) => i.instanceId === chunk.instanceId);
        const prefix = `[${invocation ? invocationLabel(invocation) : chunk.instanceId}] `;
        if (chunk.stdout !== '') hold(`${chunk.instanceId}\u0000out`, streams.stdout, prefix, chunk.stdout);
        if (chunk.stderr !== '') hold(`${chunk.instanceId}\u0000err`, streams.stderr, prefix, chunk.stderr);
      }
    },
    end() {
      for (const entry of held.values()) {
        if (entry.text !== '') entry.stream.write(`${entry.prefix}${entry.text}\n`);
        entry.text = '';
      }
    },
  };
}

/** Keeps each stream's output, for a command whose output is read, not shown (destroy's check). */
export function createCollectingSink(): OutputSink & { stdout: string; stderr: string } {
  const sink = {
    stdout: '',
    stderr: '',
    write(output: readonly InvocationOutput[]) {
      for (const chunk of output) {
        sink.stdout += chunk.stdout;
        sink.stderr += chunk.stderr;
      }
    },
    end() {},
  };
  return sink;
}
