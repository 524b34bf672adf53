export const ROLES = ['api', 'relay', 'consumer', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/** A process whose /metrics the live view scrapes. */
export interface Target {
  role: Role;
  url: string;
}

/** The processes `npm start` runs (DESIGN §7 ports; the second relay on 9474). */
export const DEFAULT_METRICS_URLS =
  'api=http://127.0.0.1:8080/metrics,relay=http://127.0.0.1:9464/metrics,relay=http://127.0.0.1:9474/metrics,' +
  'consumer=http://127.0.0.1:9465/metrics,operator=http://127.0.0.1:9466/metrics';

/**
 * Parses `role=url,role=url,…` (SHOPSTREAM_METRICS_URLS or --metrics-urls). A role may repeat
 * (several relays); a bare `host:port` gets `http://` and `/metrics`.
 * @throws Error naming the bad entry.
 */
export function parseTargets(text: string): Target[] {
  const targets: Target[] = [];
  for (const entry of text.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const role = entry.slice(0, eq).trim();
    let url = entry.slice(eq + 1).trim();
    if (eq < 1 || !(ROLES as readonly string[]).includes(role) || url === '') {
      throw new Error(
        `bad metrics target "${entry}": expected role=url with role one of ${ROLES.join(', ')}`,
      );
    }
    if (!/^https?:\/\//.test(url)) url = `http://${url}`;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`bad metrics target "${entry}": ${url} is not a URL`);
    }
    if (parsed.pathname === '/') url = `${url.replace(/\/$/, '')}/metrics`;
    targets.push({ role: role as Role, url });
  }
  if (targets.length === 0) throw new Error('no metrics targets given');
  return targets;
}
