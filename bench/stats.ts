/**
 * The few statistics the benchmark uses: quantiles of latency samples and
 * medians over rounds.
 *
 * @module
 */

/**
 * The `q` quantile of sorted samples (nearest rank, no interpolation).
 *
 * @param sorted Samples in ascending order.
 * @param q From 0 to 1.
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The median of some numbers (NaN for none; the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** `0 + 1 + … + (count − 1)`: the checksum of `count` tags or items numbered from 0. */
export function sumBelow(count: number): number {
  return (count * (count - 1)) / 2;
}
