/**
 * The EBS volumes behind the EC2 mock (see ec2-mock.ts): seeded volumes,
 * `available` or attached (`in-use`) to an instance, DescribeVolumes with
 * EC2's filters (`tag:KEY`, `status`, `volume-id`, `attachment.instance-id`)
 * and MaxResults/NextToken pages, and DeleteVolume with EC2's refusals
 * (InvalidVolume.NotFound, VolumeInUse). An attached volume goes with its
 * instance when the instance terminates (DeleteOnTermination, as bilbo
 * launches them).
 */
import type { DeleteVolumeCommandInput, DescribeVolumesCommandInput, Tag, Volume } from '@aws-sdk/client-ec2';
import { Ec2MockPages } from './ec2-mock-pages.ts';
import { checkFilterLimit, type Ec2MockSettings, ec2Error, matches } from './ec2-mock-resources.ts';

export interface SeedVolumeOptions {
  tags?: Tag[];
  /** Attached to this instance (`in-use`); otherwise `available`. */
  attachedTo?: string;
  /** @default 2026-01-01T12:00:00Z */
  createTime?: Date;
}

export class Ec2MockVolumes {
  private readonly volumes = new Map<string, Volume>();
  private readonly pages: Ec2MockPages;
  private count = 0;

  constructor(
    private readonly settings: Ec2MockSettings,
    token: () => string,
  ) {
    this.pages = new Ec2MockPages(settings, token, {
      idsParameter: 'volumeSet',
      maxResults: 500,
      tokenPrefix: 'dm9sdW1lcy',
    });
  }

  /** Adds volumes as if made earlier; returns their ids. */
  seed(count: number, options: SeedVolumeOptions = {}): string[] {
    return Array.from({ length: count }, () => {
      const id = `vol-0${(this.count++).toString(16).padStart(16, '0')}`;
      const volume: Volume = {
        VolumeId: id,
        Size: 50,
        VolumeType: 'gp3',
        Encrypted: true,
        AvailabilityZone: `${this.settings.region}a`,
        CreateTime: options.createTime ?? new Date(Date.UTC(2026, 0, 1, 12, 0, 0)),
        State: options.attachedTo ? 'in-use' : 'available',
        Attachments: options.attachedTo
          ? [{ VolumeId: id, InstanceId: options.attachedTo, State: 'attached', DeleteOnTermination: true }]
          : [],
        Tags: structuredClone(options.tags ?? []),
      };
      this.volumes.set(id, volume);
      return id;
    });
  }

  /** Every volume EC2 still has. */
  all(): Volume[] {
    return [...this.volumes.values()].map((volume) => structuredClone(volume));
  }

  /** Someone attaches the volume to an instance. */
  attach(id: string, instanceId: string): void {
    const volume = this.volumes.get(id);
    if (!volume) throw new Error(`the EC2 mock has no volume ${id}`);
    volume.State = 'in-use';
    volume.Attachments = [
      { VolumeId: id, InstanceId: instanceId, State: 'attached', DeleteOnTermination: true },
    ];
  }

  /** The instance terminated: its volumes go with it. */
  instanceTerminated(instanceId: string): void {
    for (const [id, volume] of this.volumes) {
      if (volume.Attachments?.some((a) => a.InstanceId === instanceId)) this.volumes.delete(id);
    }
  }

  describeVolumes(input: DescribeVolumesCommandInput) {
    const { ids, nextToken } = this.pages.page(input, input.VolumeIds?.length ?? 0, () => {
      checkFilterLimit(input.Filters);
      const missing = (input.VolumeIds ?? []).filter((id) => !this.volumes.has(id));
      if (missing.length > 0) {
        throw ec2Error('InvalidVolume.NotFound', `The volume '${missing.join(', ')}' does not exist.`);
      }
      const candidates = input.VolumeIds?.length
        ? input.VolumeIds.map((id) => this.volumes.get(id)!)
        : [...this.volumes.values()];
      return candidates
        .filter((volume) => matches(volume, input.Filters, fieldsOf(volume, input)))
        .map((volume) => volume.VolumeId!);
    });
    const answer: { Volumes: Volume[]; NextToken?: string } = {
      Volumes: ids.map((id) => structuredClone(this.volumes.get(id)!)),
    };
    if (nextToken) answer.NextToken = nextToken;
    return answer;
  }

  deleteVolume(input: DeleteVolumeCommandInput) {
    const volume = input.VolumeId ? this.volumes.get(input.VolumeId) : undefined;
    if (!volume) throw ec2Error('InvalidVolume.NotFound', `The volume '${input.VolumeId}' does not exist.`);
    if (volume.State !== 'available') {
      throw ec2Error(
        'VolumeInUse',
        `Volume ${input.VolumeId} is currently attached to ${volume.Attachments?.[0]?.InstanceId}`,
      );
    }
    this.volumes.delete(input.VolumeId!);
    return {};
  }
}

/** The fields EC2 filters a volume on; a `tag:KEY` filter the volume has no tag for matches nothing. */
function fieldsOf(volume: Volume, input: DescribeVolumesCommandInput): Record<string, string | undefined> {
  const fields: Record<string, string | undefined> = {
    status: volume.State,
    'volume-id': volume.VolumeId,
    'attachment.instance-id': volume.Attachments?.[0]?.InstanceId,
  };
  for (const filter of input.Filters ?? []) {
    const name = filter.Name ?? '';
    if (name.startsWith('tag:')) fields[name] = volume.Tags?.find((tag) => tag.Key === name.slice(4))?.Value;
  }
  return fields;
}
