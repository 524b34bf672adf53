import type { IHeaders } from 'kafkajs';
import type { FetchedRecord } from '../kafka/partition-reader.js';

/** The headers the consumer adds when it dead-letters an event (services/consumer dead-letter.ts). */
export const DLQ_HEADER = {
  originalTopic: 'dlq_original_topic',
  originalPartition: 'dlq_original_partition',
  originalOffset: 'dlq_original_offset',
  errorCode: 'dlq_error_code',
  errorMessage: 'dlq_error_message',
  failedAt: 'dlq_failed_at',
} as const;

/** Added to a replayed record: when it was sent back to its original topic. */
export const DLQ_REPLAYED_AT_HEADER = 'dlq_replayed_at';

/** The consumer's default DLQ topic for a source topic (CONSUMER_DLQ_TOPIC unset): `<topic>.dlq`. */
export const defaultDlqTopic = (topic: string): string => `${topic}.dlq`;

/** Bytes as text: UTF-8 when they are valid UTF-8, base64 otherwise (a poison value may be binary). */
export type TextEncoding = 'utf8' | 'base64';

/** A DLQ record as people and JSON read it. */
export interface DlqRecord {
  /** Where it sits in the DLQ topic. */
  partition: number;
  offset: string;
  /** Its timestamp in the DLQ (when it was dead-lettered), ISO 8601. */
  timestamp: string;
  key: string | null;
  keyEncoding: TextEncoding;
  value: string | null;
  valueEncoding: TextEncoding;
  /** Every header, the original event's and the dlq_* ones, as UTF-8 text. */
  headers: Record<string, string | string[]>;
  originalTopic: string | null;
  originalPartition: number | null;
  originalOffset: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  ceType: string | null;
  ceId: string | null;
}

/** A DLQ record with the bytes it was read as, which a replay sends unchanged. */
export interface DlqEntry {
  record: DlqRecord;
  raw: FetchedRecord;
}

export interface DlqFilter {
  /** Only this DLQ partition. */
  partition?: number;
  /** Only records whose dlq_error_code is this. */
  code?: string;
  /** Only records dead-lettered from this topic (dlq_original_topic). */
  originalTopic?: string;
  /** Only records with a DLQ timestamp at or after this. */
  since?: Date;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function asText(bytes: Buffer | null): { text: string | null; encoding: TextEncoding } {
  if (bytes === null) return { text: null, encoding: 'utf8' };
  try {
    return { text: utf8.decode(bytes), encoding: 'utf8' };
  } catch {
    return { text: bytes.toString('base64'), encoding: 'base64' };
  }
}

const headerText = (value: Buffer | string): string =>
  typeof value === 'string' ? value : value.toString('utf8');

function headersAsText(headers: IHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(headerText) : headerText(value);
  }
  return out;
}

const first = (value: string | string[] | undefined): string | null =>
  value === undefined ? null : Array.isArray(value) ? (value[0] ?? null) : value;

/** Reads a fetched DLQ record: its place, the original event's bytes and the consumer's dlq_* headers. */
export function toDlqEntry(raw: FetchedRecord): DlqEntry {
  const headers = headersAsText(raw.headers);
  const key = asText(raw.key);
  const value = asText(raw.value);
  const originalPartition = first(headers[DLQ_HEADER.originalPartition]);
  const timestamp = Number(raw.timestamp);
  return {
    raw,
    record: {
      partition: raw.partition,
      offset: raw.offset,
      timestamp: Number.isFinite(timestamp) ? new Date(timestamp).toISOString() : raw.timestamp,
      key: key.text,
      keyEncoding: key.encoding,
      value: value.text,
      valueEncoding: value.encoding,
      headers,
      originalTopic: first(headers[DLQ_HEADER.originalTopic]),
      originalPartition:
        originalPartition !== null && /^\d+$/.test(originalPartition) ? Number(originalPartition) : null,
      originalOffset: first(headers[DLQ_HEADER.originalOffset]),
      errorCode: first(headers[DLQ_HEADER.errorCode]),
      errorMessage: first(headers[DLQ_HEADER.errorMessage]),
      ceType: first(headers.ce_type),
      ceId: first(headers.ce_id),
    },
  };
}

/** True when `record` passes every filter that is set. */
export function matchesDlqFilter(record: DlqRecord, filter: DlqFilter): boolean {
  return (
    (filter.partition === undefined || record.partition === filter.partition) &&
    (filter.code === undefined || record.errorCode === filter.code) &&
    (filter.originalTopic === undefined || record.originalTopic === filter.originalTopic) &&
    (filter.since === undefined || Date.parse(record.timestamp) >= filter.since.getTime())
  );
}

/**
 * What a replay sends: the original key, value and headers as they were read (bytes unchanged),
 * without the consumer's dlq_* headers (a replayed event that fails again is dead-lettered afresh),
 * plus `dlq_replayed_at`.
 */
export function replayMessage(
  raw: FetchedRecord,
  replayedAt: Date,
): { key: Buffer | null; value: Buffer | null; headers: IHeaders } {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(raw.headers)) {
    if (value !== undefined && !name.startsWith('dlq_')) headers[name] = value;
  }
  headers[DLQ_REPLAYED_AT_HEADER] = replayedAt.toISOString();
  return { key: raw.key, value: raw.value, headers };
}
