import type {
  DlqListResult,
  DlqPartitionBounds,
  DlqPurgePlan,
  DlqRecord,
  DlqReplayReport,
} from '@shopstream/shared';

const clip = (text: string | null, width: number): string => {
  if (text === null) return '—';
  const line = text.replace(/\s+/g, ' ');
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
};

const origin = (r: DlqRecord): string =>
  r.originalTopic === null
    ? 'from ?'
    : `from ${r.originalTopic} ${r.originalPartition ?? '?'}:${r.originalOffset ?? '?'}`;

/** One line per record: where it is, where it came from, why, and what it is. */
export function formatRecordLine(r: DlqRecord): string {
  return [
    `${r.partition}:${r.offset}`,
    r.timestamp,
    origin(r),
    r.errorCode ?? '—',
    `${r.ceType ?? '—'} ${r.ceId ?? '—'}`,
    `key ${clip(r.key, 40)}`,
    clip(r.errorMessage, 100),
  ].join('  ');
}

export function formatBounds(partitions: DlqPartitionBounds[]): string {
  return partitions
    .map((p) =>
      BigInt(p.high) > BigInt(p.low)
        ? `partition ${p.partition}: offsets ${p.low}-${BigInt(p.high) - 1n}`
        : `partition ${p.partition}: empty (next offset ${p.high})`,
    )
    .join('; ');
}

export function formatList(result: DlqListResult, limit: number): string {
  const head = `${result.topic}: ${formatBounds(result.partitions)}`;
  if (result.records.length === 0) return `${head}\nno DLQ records match`;
  const lines = [
    head,
    'partition:offset  dead-lettered at  original topic partition:offset  code  ce_type ce_id  key  message',
    ...result.records.map(formatRecordLine),
  ];
  if (result.more) lines.push(`… more records match: showing the first ${limit} (--limit to see more)`);
  return lines.join('\n');
}

/** The value as people read it: indented JSON when it is JSON, else as stored. */
function formatValue(r: DlqRecord): string {
  if (r.value === null) return '(null)';
  if (r.valueEncoding === 'base64') return `(not UTF-8; base64) ${r.value}`;
  try {
    return JSON.stringify(JSON.parse(r.value), null, 2);
  } catch {
    return r.value;
  }
}

export function formatRecord(topic: string, r: DlqRecord): string {
  const headers = Object.entries(r.headers).map(
    ([name, value]) => `  ${name}: ${Array.isArray(value) ? value.join(' | ') : value}`,
  );
  return [
    `DLQ record ${r.partition}:${r.offset} of ${topic}, dead-lettered at ${r.timestamp}`,
    `original:   ${r.originalTopic ?? '?'} partition ${r.originalPartition ?? '?'} offset ${r.originalOffset ?? '?'}`,
    `error:      ${r.errorCode ?? '—'}: ${r.errorMessage ?? '—'}`,
    `event:      ${r.ceType ?? '—'} ${r.ceId ?? '—'}`,
    `key:        ${r.key === null ? '(null)' : r.keyEncoding === 'base64' ? `(base64) ${r.key}` : r.key}`,
    'headers:',
    ...headers,
    'value:',
    formatValue(r),
  ].join('\n');
}

export function formatReplayPlan(topic: string, records: DlqRecord[]): string {
  if (records.length === 0) return `${topic}: no DLQ records selected: nothing to replay`;
  return [
    `dry run: would replay ${records.length} record(s) of ${topic} to their original topic (--execute to send them):`,
    ...records.map(
      (r) =>
        `${r.partition}:${r.offset} → ${r.originalTopic ?? '(no original topic: cannot replay)'}  ${r.ceType ?? '—'} ${r.ceId ?? '—'}`,
    ),
  ].join('\n');
}

export function formatReplayReport(topic: string, selected: number, report: DlqReplayReport): string {
  const lines = [
    `replayed ${report.replayed.length} of ${selected} record(s) of ${topic}${
      report.failed.length ? `; ${report.failed.length} failed` : ''
    }`,
    ...report.failed.map((f) => `failed ${f.partition}:${f.offset} → ${f.topic ?? '?'}: ${f.reason}`),
  ];
  if (report.replayed.length) {
    lines.push('The records stay in the DLQ: `shopstream dlq purge` removes them once they are applied.');
  }
  return lines.join('\n');
}

export function formatPurge(
  topic: string,
  plan: DlqPurgePlan[],
  after: DlqPartitionBounds[] | undefined,
): string {
  const total = plan.reduce((n, p) => n + p.deletes, 0);
  const lines = plan.map((p) =>
    p.deletes === 0
      ? `partition ${p.partition}: nothing to delete (log start ${p.low})`
      : `partition ${p.partition}: ${after ? 'deleted' : 'would delete'} ${p.deletes} record(s), offsets ${p.low}-${BigInt(p.newLow) - 1n} (log start ${p.low} → ${p.newLow})`,
  );
  if (after) {
    lines.push(`deleted ${total} record(s) of ${topic}; now ${formatBounds(after)}`);
  } else {
    lines.unshift(`dry run: purge of ${topic} (--execute to delete):`);
  }
  return lines.join('\n');
}
