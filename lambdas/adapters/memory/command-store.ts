/** The CommandStore in memory, with the DynamoDB store's semantics (the same contract tests run on both). */
import type { CommandRecord } from '../../../schemas/types.generated.ts';
import type { CommandStore } from '../../domain/ports.ts';

export class MemoryCommandStore implements CommandStore {
  private readonly records = new Map<string, CommandRecord>();

  async putCommand(command: CommandRecord): Promise<void> {
    const key = keyOf(command.clusterId, command.id);
    if (this.records.has(key)) throw new Error(`command ${command.id} is already recorded`);
    this.records.set(key, structuredClone(command));
  }

  async getCommand(clusterId: string, id: string): Promise<CommandRecord | undefined> {
    const found = this.records.get(keyOf(clusterId, id));
    return found && structuredClone(found);
  }

  async listCommands(clusterId: string, options: { limit?: number } = {}): Promise<CommandRecord[]> {
    return [...this.records.values()]
      .filter((command) => command.clusterId === clusterId)
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .slice(0, options.limit ?? 20)
      .map((command) => structuredClone(command));
  }

  async updateCommand(command: CommandRecord): Promise<boolean> {
    const key = keyOf(command.clusterId, command.id);
    if (this.records.get(key)?.state !== 'RUNNING') return false;
    this.records.set(key, structuredClone(command));
    return true;
  }
}

function keyOf(clusterId: string, id: string): string {
  return `${clusterId}/${id}`;
}
