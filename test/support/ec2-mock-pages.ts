/**
 * EC2's paging of a Describe call, for the mock's (see ec2-mock.ts): a
 * MaxResults within the call's range, never with explicit ids; a
 * NextToken that names a page the mock handed out, once; pages of at most
 * the mock's page size, and one page for explicit ids.
 */
import { type Ec2MockSettings, ec2Error } from './ec2-mock-resources.ts';

export interface PagingRules {
  /** How EC2 names the ids parameter in its refusal (`instancesSet`). */
  idsParameter: string;
  /** The largest MaxResults the call takes. */
  maxResults: number;
  /** How the call's tokens begin, as EC2's do. */
  tokenPrefix: string;
}

interface Page {
  ids: string[];
  offset: number;
  limit: number;
}

export class Ec2MockPages {
  private readonly pages = new Map<string, Page>();

  constructor(
    private readonly settings: Ec2MockSettings,
    private readonly token: () => string,
    private readonly rules: PagingRules,
  ) {}

  /**
   * The ids the call answers, and the token of the next page: the page
   * NextToken names, or the first of what `select` finds (called only for a
   * first page, after the paging parameters are checked).
   */
  page(
    input: { NextToken?: string; MaxResults?: number },
    idsGiven: number,
    select: () => string[],
  ): { ids: string[]; nextToken?: string } {
    let page: Page;
    if (input.NextToken) {
      const stored = this.pages.get(input.NextToken);
      if (!stored) throw ec2Error('InvalidParameterValue', `Invalid NextToken: ${input.NextToken}`);
      this.pages.delete(input.NextToken);
      page = stored;
    } else {
      if (idsGiven > 0 && input.MaxResults !== undefined) {
        throw ec2Error(
          'InvalidParameterCombination',
          `The parameter ${this.rules.idsParameter} cannot be used with the parameter maxResults`,
        );
      }
      const max = this.rules.maxResults;
      if (input.MaxResults !== undefined && (input.MaxResults < 5 || input.MaxResults > max)) {
        throw ec2Error(
          'InvalidParameterValue',
          `Value ( ${input.MaxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and ${max}.`,
        );
      }
      const ids = select();
      const limit =
        idsGiven > 0 ? ids.length : Math.min(input.MaxResults ?? ids.length, this.settings.pageSize);
      page = { ids, offset: 0, limit: Math.max(limit, 1) };
    }
    const ids = page.ids.slice(page.offset, page.offset + page.limit);
    const next = page.offset + page.limit;
    if (next >= page.ids.length) return { ids };
    const nextToken = `${this.rules.tokenPrefix}${this.token().slice(0, 8)}`;
    this.pages.set(nextToken, { ...page, offset: next });
    return { ids, nextToken };
  }
}
