/**
 * Pure part of outbox partition maintenance: hourly partition names and which hours to create or
 * drop, given what exists. Hours are UTC-aligned; `now` is the database's clock.
 */

export const HOUR_MS = 3_600_000;

/** `outbox_event_p2026112906` holds rows published in [06:00, 07:00) UTC on 2026-11-29. */
export const partitionName = (start: Date): string =>
  `outbox_event_p${start.toISOString().slice(0, 13).replace(/[-T]/g, '')}`;

const NAME = /^outbox_event_p(\d{4})(\d{2})(\d{2})(\d{2})$/;

/** The hour a partition name stands for, or undefined for any other name. */
export function hourOfPartition(name: string): Date | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:00:00.000Z`);
  return Number.isNaN(d.getTime()) || partitionName(d) !== name ? undefined : d;
}

export const floorHour = (d: Date): Date => new Date(Math.floor(d.getTime() / HOUR_MS) * HOUR_MS);

export interface PartitionState {
  /** Hourly partitions attached to outbox_event_published: name → [from, to). */
  attached: Map<string, { from: Date; to: Date }>;
  /**
   * Tables named like an hourly partition but not attached: one this maintenance created and could
   * not attach yet (or detached and could not drop yet).
   */
  detached: string[];
  /** Hours (UTC-aligned starts) that have rows in outbox_event_published_default. */
  defaultHours: Date[];
}

export interface PartitionPlan {
  /** Hours to create (or attach), most urgent first: the current hour, then ahead, then older. */
  create: Date[];
  /** Attached partitions whose hour ended at or before the retention cutoff: detach, then drop. */
  detach: string[];
  /** Unattached tables whose hour is past the cutoff: drop. */
  drop: string[];
  /** Published rows older than this are past retention. */
  cutoff: Date;
}

/**
 * What to do: every hour from one hour back to `hoursAhead` ahead needs a partition, and so does
 * every hour that still has rows in the published default (so the default drains back to empty),
 * unless that hour is past retention; partitions and leftovers past retention go.
 */
export function planPartitions(
  state: PartitionState,
  options: { now: Date; hoursAhead: number; retentionHours: number },
): PartitionPlan {
  const current = floorHour(options.now).getTime();
  const cutoff = new Date(options.now.getTime() - options.retentionHours * HOUR_MS);
  const live = (start: number) => start + HOUR_MS > cutoff.getTime();
  const wanted = new Set<number>();
  for (let h = -1; h <= options.hoursAhead; h++) wanted.add(current + h * HOUR_MS);
  for (const d of state.defaultHours) wanted.add(floorHour(d).getTime());
  for (const name of state.detached) {
    const h = hourOfPartition(name);
    if (h) wanted.add(h.getTime());
  }
  const attachedStarts = new Set([...state.attached.values()].map((r) => r.from.getTime()));
  const create = [...wanted]
    .filter((start) => live(start) && !attachedStarts.has(start))
    .sort((a, b) => urgency(a, current) - urgency(b, current) || a - b)
    .map((start) => new Date(start));
  const detach = [...state.attached]
    .filter(([, r]) => r.to.getTime() <= cutoff.getTime())
    .map(([name]) => name)
    .sort();
  const drop = state.detached.filter((name) => {
    const h = hourOfPartition(name);
    return h !== undefined && !live(h.getTime());
  });
  return { create, detach, drop: drop.sort(), cutoff };
}

/** 0 for the current hour, then the hours ahead in order, then the past (newest first). */
function urgency(start: number, current: number): number {
  const hours = Math.round((start - current) / HOUR_MS);
  return hours >= 0 ? hours : 1_000_000 - hours;
}
