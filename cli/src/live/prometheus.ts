/** One sample of the Prometheus text exposition format: `name{label="value",…} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const unescape = (s: string): string => s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)); // \\ \" \n are the only escapes

const parseValue = (text: string): number => {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const n = Number(text);
  if (text === '' || Number.isNaN(n)) throw new Error(`not a sample value: ${text}`);
  return n;
};

/**
 * Parses the text format prom-client serves (version 0.0.4). Comments and TYPE/HELP lines are
 * skipped: the metrics this CLI reads are known by name, and histogram series are told apart by
 * their `_bucket`/`_sum`/`_count` suffixes anyway.
 * @throws Error naming the line when a sample line is malformed.
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/.exec(line);
    if (!match) throw new Error(`line ${index + 1} is not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    const labelText = match[3] ?? '';
    const labelPattern = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/gy;
    let consumed = 0;
    for (let m = labelPattern.exec(labelText); m; m = labelPattern.exec(labelText)) {
      labels[m[1]!] = unescape(m[2]!);
      consumed = labelPattern.lastIndex;
      if (consumed >= labelText.length) break;
    }
    if (consumed < labelText.trim().length) {
      throw new Error(`line ${index + 1} has malformed labels: ${line}`);
    }
    try {
      samples.push({ name: match[1]!, labels, value: parseValue(match[4]!) });
    } catch (err) {
      throw new Error(`line ${index + 1}: ${(err as Error).message}`, { cause: err });
    }
  }
  return samples;
}

export type LabelFilter = Record<string, string>;

const matches = (s: Sample, name: string, filter: LabelFilter): boolean =>
  s.name === name && Object.entries(filter).every(([k, v]) => s.labels[k] === v);

/** Sum of every series of `name` whose labels include `filter`; undefined when there is none. */
export function sumOf(samples: Sample[], name: string, filter: LabelFilter = {}): number | undefined {
  let total: number | undefined;
  for (const s of samples) if (matches(s, name, filter)) total = (total ?? 0) + s.value;
  return total;
}

/** Largest value of the series of `name` matching `filter`; undefined when there is none. */
export function maxOf(samples: Sample[], name: string, filter: LabelFilter = {}): number | undefined {
  let max: number | undefined;
  for (const s of samples) if (matches(s, name, filter)) max = Math.max(max ?? -Infinity, s.value);
  return max;
}

/** A histogram's cumulative bucket counts by upper bound, summed over the series matching `filter`. */
export function bucketsOf(
  samples: Sample[],
  histogram: string,
  filter: LabelFilter = {},
): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const s of samples) {
    if (!matches(s, `${histogram}_bucket`, filter) || s.labels.le === undefined) continue;
    const le = parseValue(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  return buckets;
}

/**
 * The q-quantile of a histogram given as cumulative bucket counts, the way Prometheus'
 * `histogram_quantile` estimates it: linear interpolation inside the bucket holding the rank, the
 * highest finite bound when the rank falls in the +Inf bucket. Undefined when nothing was observed.
 */
export function histogramQuantile(q: number, buckets: Map<number, number>): number | undefined {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (sorted.length === 0 || total <= 0 || sorted.at(-1)![0] !== Infinity) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return lowerBound;
      if (count === lowerCount) return le;
      return lowerBound + (le - lowerBound) * ((rank - lowerCount) / (count - lowerCount));
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

/** Bucket counts observed between two scrapes (a reset — process restart — counts from zero). */
export function bucketDelta(
  previous: Map<number, number>,
  current: Map<number, number>,
): Map<number, number> {
  const delta = new Map<number, number>();
  const reset = [...current].some(([le, c]) => c < (previous.get(le) ?? 0));
  for (const [le, c] of current) delta.set(le, reset ? c : c - (previous.get(le) ?? 0));
  return delta;
}
