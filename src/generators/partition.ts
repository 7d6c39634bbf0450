/**
 * Partitions: worker k of n takes one contiguous slice of a range of records, so that the n
 * slices, in order of k, are the range itself. The split is by record index only (never by
 * time, key or size), so every worker computes its own slice without talking to the others,
 * and record i is the same whichever worker writes it.
 *
 * Slice k of the range [start, end) is [start + floor(k·N/n), start + floor((k+1)·N/n)) with
 * N = end − start: the slices differ in size by at most one record, and the first ones are
 * never the larger (the extra records go to the later slices).
 *
 * @example
 * partitionRange(0, 10, { partition: 1, partitions: 4 }); // { start: 2, end: 5 }
 */

/** Most workers a range may be split over. */
export const MAX_PARTITIONS = 10_000;

export interface Partition {
  /** 0-based index of this worker. */
  readonly partition: number;
  /** Number of workers. */
  readonly partitions: number;
}

/** The file-name suffix of a slice (`-part1of4`), '' without partitions: GET downloads and `ecomgen generate` files alike. */
export function partSuffix(partition: number | undefined, partitions: number | undefined): string {
  return partition !== undefined && partitions !== undefined ? `-part${partition}of${partitions}` : '';
}

/** Slice `partition` of `partitions` of [start, end). */
export function partitionRange(start: number, end: number, { partition, partitions }: Partition): { start: number; end: number } {
  const size = Math.max(0, end - start);
  return {
    start: start + Math.floor((partition * size) / partitions),
    end: start + Math.floor(((partition + 1) * size) / partitions),
  };
}

/**
 * Why a partition/partitions pair cannot be used (the parameter to name and the reason), or
 * undefined. Either both are given or neither; partition < partitions <= MAX_PARTITIONS.
 */
export function partitionProblem(partition: number | undefined, partitions: number | undefined): { parameter: string; reason: string } | undefined {
  if (partition === undefined && partitions === undefined) return undefined;
  if (partitions === undefined) return { parameter: 'partitions', reason: 'is required with partition (worker partition of partitions)' };
  if (partition === undefined) return { parameter: 'partition', reason: 'is required with partitions (the 0-based index of this worker)' };
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    return { parameter: 'partitions', reason: `must be an integer from 1 to ${MAX_PARTITIONS}` };
  }
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
    return { parameter: 'partition', reason: `must be an integer from 0 to partitions - 1 (${partitions - 1})` };
  }
  return undefined;
}

/** `k/n` as written in a sink body or on the command line (`--partition 1/4`), or why it is not one. */
export function parsePartition(text: string): Partition | { problem: string } {
  const match = /^(\d{1,9})\/(\d{1,9})$/.exec(text.trim());
  if (!match) return { problem: `expected k/n (worker k of n, 0 <= k < n), e.g. 0/4; got '${text}'` };
  const partition = Number(match[1]);
  const partitions = Number(match[2]);
  const problem = partitionProblem(partition, partitions);
  return problem ? { problem: `${problem.parameter === 'partitions' ? 'n' : 'k'} ${problem.reason.replace('partitions - 1', 'n - 1')}` } : { partition, partitions };
}
