/**
 * The deployment's loose EBS volumes: those carrying its `bilbo:managed`
 * tag that no instance has attached (`available`), which bill for nothing
 * anyone uses. A volume has no launch token or instance profile to prove
 * whose it is; its tags are all there is, so a volume without bilbo's
 * cluster tag is left alone, and each is described again, by its tags and
 * status, right before it is deleted. EC2 itself refuses to delete an
 * attached volume (VolumeInUse): one attached since is left alone.
 */
import {
  DeleteVolumeCommand,
  DescribeVolumesCommand,
  type DescribeVolumesCommandInput,
  type DescribeVolumesCommandOutput,
  type EC2Client,
  type Filter,
  type Volume,
} from '@aws-sdk/client-ec2';
import type { LooseVolume } from '../../domain/ports.ts';
import { isEc2Error, translateEc2Error } from './errors.ts';
import { TAGS } from './launch-params.ts';

export interface Ec2VolumesOptions {
  client: EC2Client;
  deploymentId: string;
  /** Where volumes left alone are reported. */
  warn: (message: string) => void;
}

/** Results per DescribeVolumes page: EC2 takes 5 to 500. */
export const VOLUME_PAGE = 500;
/** Volume ids per `volume-id` filter: EC2 takes at most 200 filter values a call, these and the others. */
const VOLUME_ID_BATCH = 100;

export class Ec2Volumes {
  constructor(private readonly options: Ec2VolumesOptions) {}

  async findLoose(): Promise<LooseVolume[]> {
    return (await this.describeWhere([])).flatMap((volume) => {
      const clusterId = tagOf(volume, TAGS.clusterId);
      if (!clusterId) {
        this.options.warn(
          `left volume ${volume.VolumeId} alone: it carries ${TAGS.managed} but no ${TAGS.clusterId} tag, so bilbo did not make it`,
        );
        return [];
      }
      return [{ id: volume.VolumeId ?? '', clusterId, createdAt: volume.CreateTime?.toISOString() ?? '' }];
    });
  }

  /** Deletes those of the volumes that are still loose and still carry the tags; one gone is done. */
  async delete(ids: readonly string[]): Promise<void> {
    const loose: string[] = [];
    for (let i = 0; i < ids.length; i += VOLUME_ID_BATCH) {
      const batch = [...new Set(ids.slice(i, i + VOLUME_ID_BATCH))];
      const found = await this.describeWhere([{ Name: 'volume-id', Values: batch }]);
      loose.push(...found.filter((v) => tagOf(v, TAGS.clusterId)).map((v) => v.VolumeId ?? ''));
    }
    for (const id of loose) {
      try {
        await this.options.client.send(new DeleteVolumeCommand({ VolumeId: id }));
      } catch (error) {
        if (isEc2Error(error, 'InvalidVolume.NotFound')) continue;
        if (isEc2Error(error, 'VolumeInUse', 'IncorrectState')) {
          this.options.warn(`left volume ${id} alone: it was attached again before it could be deleted`);
          continue;
        }
        throw translateEc2Error(error, { action: 'DeleteVolume' });
      }
    }
  }

  /** Every available volume carrying the deployment's tag and matching `filters`, following NextToken. */
  private async describeWhere(filters: Filter[]): Promise<Volume[]> {
    const volumes: Volume[] = [];
    let nextToken: string | undefined;
    do {
      const input: DescribeVolumesCommandInput = {
        Filters: [
          { Name: `tag:${TAGS.managed}`, Values: [this.options.deploymentId] },
          { Name: 'status', Values: ['available'] },
          ...filters,
        ],
        MaxResults: VOLUME_PAGE,
      };
      if (nextToken) input.NextToken = nextToken;
      let page: DescribeVolumesCommandOutput;
      try {
        page = await this.options.client.send(new DescribeVolumesCommand(input));
      } catch (error) {
        throw translateEc2Error(error, { action: 'DescribeVolumes' });
      }
      // The filters decide, and are checked again: a volume that is not both is never deleted.
      volumes.push(
        ...(page.Volumes ?? []).filter(
          (v) => v.State === 'available' && tagOf(v, TAGS.managed) === this.options.deploymentId,
        ),
      );
      nextToken = page.NextToken || undefined;
    } while (nextToken);
    return volumes;
  }
}

function tagOf(volume: Volume, key: string): string | undefined {
  return volume.Tags?.find((tag) => tag.Key === key)?.Value;
}
