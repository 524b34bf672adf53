import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { OUTBOX_STATUSES } from '@shopstream/shared';
import type { DlqPartitionBounds, DlqRecord, OutboxOverview, OutboxRowSummary } from '@shopstream/shared';
import type { DlqQuery, OutboxQuery } from './admin-input.js';
import type { DlqListing } from './dlq-source.js';
import type { LagReport } from './lag-source.js';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** Forms of a logged-in page carry the session's CSRF token; Bearer clients have none and need none. */
export interface PageContext {
  csrf?: string;
}

const css = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#1d2430;background:#f5f6f8}
header{display:flex;gap:1.5rem;align-items:center;padding:.6rem 1.5rem;background:#1d2430;color:#fff}
header a{color:#cfd8e3;text-decoration:none}header a:hover{color:#fff}header form{margin-left:auto}
main{padding:1rem 1.5rem;max-width:1200px}h1{font-size:1.3rem;margin:.4rem 0 1rem}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}
table{border-collapse:collapse;background:#fff;width:100%;margin-bottom:1rem}th,td{padding:.35rem .6rem;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
th{background:#eef0f3;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin-bottom:1rem}.card{background:#fff;border:1px solid #e3e6ea;border-radius:6px;padding:.7rem 1rem;min-width:10rem}
.card b{display:block;font-size:1.5rem}.card span{color:#5b6675}
.status{display:inline-block;padding:0 .45rem;border-radius:4px;font-size:.8rem;font-weight:600;background:#e3e6ea}
.status-PENDING{background:#fff2cc}.status-PUBLISHED{background:#d6f5df}.status-DEAD{background:#ffd6d6}.status-SKIPPED{background:#e0e0ff}
.notice{background:#d6f5df;border:1px solid #9fd8b0;padding:.5rem .8rem;border-radius:4px;margin-bottom:1rem}
.problem{background:#ffe9e9;border:1px solid #f0a8a8;padding:.5rem .8rem;border-radius:4px;margin-bottom:1rem}
.muted{color:#5b6675}pre{background:#fff;border:1px solid #e3e6ea;padding:.6rem;overflow:auto;max-height:30rem}
form.inline{display:inline}button{cursor:pointer;padding:.2rem .7rem}input,select{padding:.2rem .4rem}
code{font-size:.9em}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;background:#fff;padding:.8rem;border:1px solid #e3e6ea}dt{font-weight:600}dd{margin:0}
`;

function layout(title: string, ctx: PageContext | undefined, body: Html): Html {
  const nav = ctx
    ? html`<nav>
          <a href="/admin">Overview</a> · <a href="/admin/outbox">Outbox</a> ·
          <a href="/admin/dead">DEAD rows</a> · <a href="/admin/lag">Consumer lag</a> ·
          <a href="/admin/dlq">DLQ</a>
        </nav>
        ${
          ctx.csrf
            ? html`<form method="post" action="/admin/logout">
                <input type="hidden" name="_csrf" value="${ctx.csrf}" /><button type="submit">Log out</button>
              </form>`
            : ''
        }`
    : '';
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · shopstream admin</title>
        <style>
          ${raw(css)}
        </style>
      </head>
      <body>
        <header><strong>shopstream admin</strong>${nav}</header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`;
}

/** "4.2 s", "3 min 5 s", "2 h 10 min": ages as people read them. */
export function formatAge(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.floor(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

const badge = (status: string): Html => html`<span class="status status-${status}">${status}</span>`;
const json = (value: unknown): string => JSON.stringify(value, null, 2);

export function loginPage(error?: string): Html {
  return layout(
    'Log in',
    undefined,
    html`${error ? html`<p class="problem" role="alert">${error}</p>` : ''}
      <form method="post" action="/admin/login">
        <p>
          <label
            >Admin token
            <input type="password" name="token" autocomplete="current-password" size="48" required autofocus
          /></label>
        </p>
        <p><button type="submit">Log in</button></p>
      </form>
      <p class="muted">The token is the API's ADMIN_TOKEN; the session lasts 8 hours.</p>`,
  );
}

export function errorPage(title: string, problems: string[], ctx?: PageContext): Html {
  return layout(
    title,
    ctx,
    html`<div class="problem" role="alert">
        <ul>
          ${problems.map((p) => html`<li>${p}</li>`)}
        </ul>
      </div>
      <p>Nothing was changed. <a href="/admin">Back to the overview</a></p>`,
  );
}

function lagSummary(lag: LagReport): Html {
  if (lag.state === 'unconfigured') {
    return html`<p class="muted" data-lag-state="unconfigured">
      Kafka is not configured for the API (set KAFKA_BROKERS, CONSUMER_GROUP_ID and CONSUMER_TOPIC): no
      consumer lag.
    </p>`;
  }
  if (lag.state === 'error') {
    return html`<p class="problem" data-lag-state="error">
      Lag of group <code>${lag.groupId}</code> on <code>${lag.topic}</code> is unavailable: ${lag.message}
    </p>`;
  }
  const total = lag.partitions.reduce((sum, p) => sum + p.lag, 0);
  const uncommitted = lag.partitions.filter((p) => p.committedOffset === null).length;
  return html`<div class="cards" data-lag-state="ok">
    <div class="card"><b data-testid="lag-total">${total}</b><span>messages behind</span></div>
    <div class="card">
      <b>${lag.partitions.length}</b><span>partitions of <code>${lag.topic}</code></span>
    </div>
    <div class="card"><b>${uncommitted}</b><span>without a commit</span></div>
    <div class="card">
      <b><code>${lag.groupId}</code></b
      ><span>group</span>
    </div>
  </div>`;
}

export function overviewPage(
  data: { overview: OutboxOverview; lag: LagReport; generatedAt: string },
  ctx: PageContext,
): Html {
  const { overview } = data;
  return layout(
    'Pipeline overview',
    ctx,
    html`<p class="muted">As of ${data.generatedAt}. Reload for fresh numbers.</p>
      <h2>Outbox</h2>
      <div class="cards">
        ${OUTBOX_STATUSES.map(
          (s) =>
            html`<div class="card" data-count="${s}">
              <b>${overview.counts[s]}</b><span><a href="/admin/outbox?status=${s}">${s}</a></span>
            </div>`,
        )}
        <div class="card" data-testid="oldest-pending">
          <b
            >${overview.oldestPendingAgeSeconds === null ? '—' : formatAge(overview.oldestPendingAgeSeconds)}</b
          ><span>oldest PENDING</span>
        </div>
      </div>
      ${
        overview.counts.DEAD > 0
          ? html`<p class="problem">
              ${overview.counts.DEAD} DEAD event(s) block their products' later events:
              <a href="/admin/dead">requeue or skip them</a>.
            </p>`
          : ''
      }
      <h2>Relays</h2>
      ${
        overview.liveRelays.length === 0
          ? html`<p class="problem" data-testid="relays-alive">
              No relay is alive: nothing is being published.
            </p>`
          : html`<p data-testid="relays-alive">${overview.liveRelays.length} relay(s) alive.</p>
              <table>
                <thead>
                  <tr>
                    <th>relay</th>
                    <th>lease until</th>
                  </tr>
                </thead>
                <tbody>
                  ${overview.liveRelays.map(
                    (r) =>
                      html`<tr>
                        <td>${r.owner}</td>
                        <td>${r.leaseUntil}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
      }
      <h2>Consumer lag</h2>
      ${lagSummary(data.lag)}
      <p><a href="/admin/lag">Lag per partition</a></p>`,
  );
}

function outboxTable(rows: OutboxRowSummary[], ctx: PageContext, withActions: boolean): Html {
  if (rows.length === 0) return html`<p class="muted" data-testid="no-rows">No events match.</p>`;
  return html`<table>
    <thead>
      <tr>
        <th class="num">seq</th>
        <th>event</th>
        <th>status</th>
        <th>type</th>
        <th>product</th>
        <th class="num">version</th>
        <th class="num">attempts</th>
        <th>created</th>
        <th>last error</th>
        ${withActions ? html`<th>action</th>` : ''}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr data-event-id="${r.id}" data-status="${r.status}">
            <td class="num">${r.seq}</td>
            <td>
              <a href="/admin/outbox/${r.id}"><code>${r.id}</code></a>
            </td>
            <td>${badge(r.status)}</td>
            <td>${r.eventType}</td>
            <td>
              <a href="/admin/outbox?product=${r.aggregateId}"><code>${r.aggregateId}</code></a>
            </td>
            <td class="num">${r.aggregateVersion}</td>
            <td class="num">${r.attempts}</td>
            <td>${r.createdAt}</td>
            <td>${r.lastError ?? ''}</td>
            ${withActions ? html`<td>${actionButtons(r.id, ctx)}</td>` : ''}
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function actionButtons(id: string, ctx: PageContext): Html {
  const csrf = ctx.csrf ? html`<input type="hidden" name="_csrf" value="${ctx.csrf}" />` : '';
  return html`<form class="inline" method="post" action="/admin/outbox/${id}/requeue">
      ${csrf}<button type="submit" name="action" value="requeue">Requeue</button>
    </form>
    <form class="inline" method="post" action="/admin/outbox/${id}/skip">
      ${csrf}<button type="submit" name="action" value="skip">Skip</button>
    </form>`;
}

export function outboxPage(
  data: { rows: OutboxRowSummary[]; query: OutboxQuery; nextAfter?: string },
  ctx: PageContext,
): Html {
  const { query } = data;
  const params = (after?: string): string =>
    new URLSearchParams({
      ...(query.status ? { status: query.status } : {}),
      ...(query.aggregateId ? { product: query.aggregateId } : {}),
      ...(after ? { after } : {}),
    }).toString();
  return layout(
    'Outbox',
    ctx,
    html`<form method="get" action="/admin/outbox">
        <label
          >Status
          <select name="status">
            <option value="">any</option>
            ${OUTBOX_STATUSES.map(
              (s) => html`<option value="${s}" ${query.status === s ? 'selected' : ''}>${s}</option>`,
            )}
          </select></label
        >
        <label>Product id <input name="product" value="${query.aggregateId ?? ''}" size="38" /></label>
        <button type="submit">Filter</button>
      </form>
      <p class="muted">In commit order${query.afterSeq ? html`, after seq ${query.afterSeq}` : ''}.</p>
      ${outboxTable(data.rows, ctx, false)}
      <p>
        ${query.afterSeq ? html`<a href="/admin/outbox?${params()}">First page</a>` : ''}
        ${data.nextAfter ? html` <a rel="next" href="/admin/outbox?${params(data.nextAfter)}">Next page</a>` : ''}
      </p>`,
  );
}

export function deadPage(data: { rows: OutboxRowSummary[]; more: boolean }, ctx: PageContext): Html {
  return layout(
    'DEAD rows',
    ctx,
    html`<p class="muted">
        A DEAD event failed every attempt; its product's later events wait behind it. Requeue publishes it
        again (in order, by the relay owning its shard); Skip marks it SKIPPED so it is never published and no
        longer blocks.
      </p>
      ${outboxTable(data.rows, ctx, true)}
      ${data.more ? html`<p><a href="/admin/outbox?status=DEAD">All DEAD rows</a></p>` : ''}`,
  );
}

const doneNotice: Record<string, string> = {
  requeue: 'Requeued: the relay that owns its shard publishes it next. Reload to follow its status.',
  skip: 'Skipped: it will never be published, and its product’s later events flow again.',
};

export function eventPage(
  data: {
    event: OutboxRowSummary & { payload: unknown; headers: unknown };
    done?: string;
  },
  ctx: PageContext,
): Html {
  const e = data.event;
  const notice = data.done ? doneNotice[data.done] : undefined;
  return layout(
    `Event ${e.id}`,
    ctx,
    html`${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
      <dl data-event-id="${e.id}">
        <dt>status</dt>
        <dd data-testid="event-status">${badge(e.status)}</dd>
        <dt>type</dt>
        <dd>${e.eventType}</dd>
        <dt>product</dt>
        <dd>
          <a href="/admin/outbox?product=${e.aggregateId}"><code>${e.aggregateId}</code></a>
          v${e.aggregateVersion}
        </dd>
        <dt>seq / shard</dt>
        <dd>${e.seq} / ${e.shard}</dd>
        <dt>attempts</dt>
        <dd>${e.attempts}</dd>
        <dt>created</dt>
        <dd>${e.createdAt}</dd>
        <dt>published</dt>
        <dd>${e.publishedAt ?? '—'}</dd>
        <dt>last error</dt>
        <dd>${e.lastError ?? '—'}</dd>
      </dl>
      ${e.status === 'DEAD' ? html`<p>${actionButtons(e.id, ctx)}</p>` : ''}
      <h2>Headers</h2>
      <pre>${json(e.headers)}</pre>
      <h2>Payload</h2>
      <pre>${json(e.payload)}</pre>`,
  );
}

export function lagPage(lag: LagReport, ctx: PageContext): Html {
  const table =
    lag.state === 'ok'
      ? html`<table>
          <thead>
            <tr>
              <th>topic</th>
              <th class="num">partition</th>
              <th class="num">committed</th>
              <th class="num">log start</th>
              <th class="num">log end</th>
              <th class="num">lag</th>
            </tr>
          </thead>
          <tbody>
            ${lag.partitions.map(
              (p) =>
                html`<tr data-partition="${p.partition}">
                  <td>${p.topic}</td>
                  <td class="num">${p.partition}</td>
                  <td class="num">${p.committedOffset ?? '—'}</td>
                  <td class="num">${p.logStartOffset}</td>
                  <td class="num">${p.logEndOffset}</td>
                  <td class="num">${p.lag}</td>
                </tr>`,
            )}
          </tbody>
        </table>`
      : '';
  return layout('Consumer lag', ctx, html`${lagSummary(lag)}${table}`);
}

const dlqHref = (r: { partition: number; offset: string }): string => `/admin/dlq/${r.partition}/${r.offset}`;

function replayButton(r: DlqRecord, ctx: PageContext): Html {
  if (!r.originalTopic) return html`<span class="muted">no original topic</span>`;
  const csrf = ctx.csrf ? html`<input type="hidden" name="_csrf" value="${ctx.csrf}" />` : '';
  return html`<form class="inline" method="post" action="${dlqHref(r)}/replay">
    ${csrf}<button type="submit" name="action" value="replay">Replay</button>
  </form>`;
}

function boundsText(partitions: DlqPartitionBounds[]): string {
  const stored = partitions.reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0);
  return `${stored} record(s) stored in ${partitions.length} partition(s)`;
}

/** The dead-letter topic: records the consumer refused as faulty, each with a Replay button. */
export function dlqPage(
  data: { listing: DlqListing; query: DlqQuery; limit: number },
  ctx: PageContext,
): Html {
  const { listing, query } = data;
  const filterForm = html`<form method="get" action="/admin/dlq">
    <label>Error code <input name="code" value="${query.code ?? ''}" size="24" /></label>
    <label>Partition <input name="partition" value="${query.partition ?? ''}" size="4" /></label>
    <button type="submit">Filter</button>
  </form>`;
  const intro = html`<p class="muted">
    Events the consumer refused as faulty in themselves (not JSON, no ce_id, unknown type, data the schema
    refuses). Replay sends one back to its original topic with its original key, value and headers plus
    <code>dlq_replayed_at</code>; it stays here until purged (<code>shopstream dlq purge</code>).
  </p>`;
  if (listing.state === 'unconfigured') {
    return layout(
      'Dead-letter queue',
      ctx,
      html`${intro}
        <p class="muted" data-dlq-state="unconfigured">
          Kafka is not configured for the API (set KAFKA_BROKERS): the DLQ cannot be read.
        </p>`,
    );
  }
  if (listing.state === 'error') {
    return layout(
      'Dead-letter queue',
      ctx,
      html`${intro}
        <p class="problem" data-dlq-state="error">
          The DLQ topic <code>${listing.topic}</code> cannot be read: ${listing.message}
        </p>`,
    );
  }
  const { list } = listing;
  const rows =
    list.records.length === 0
      ? html`<p class="muted" data-testid="no-dlq-records">No DLQ records match.</p>`
      : html`<table>
          <thead>
            <tr>
              <th>record</th>
              <th>dead-lettered</th>
              <th>from</th>
              <th>code</th>
              <th>message</th>
              <th>type / id</th>
              <th>key</th>
              <th>action</th>
            </tr>
          </thead>
          <tbody>
            ${list.records.map(
              (r) =>
                html`<tr data-dlq-record="${r.partition}:${r.offset}" data-code="${r.errorCode ?? ''}">
                  <td>
                    <a href="${dlqHref(r)}"><code>${r.partition}:${r.offset}</code></a>
                  </td>
                  <td>${r.timestamp}</td>
                  <td>
                    <code>${r.originalTopic ?? '?'}</code>
                    ${r.originalPartition ?? '?'}:${r.originalOffset ?? '?'}
                  </td>
                  <td>${r.errorCode ?? '—'}</td>
                  <td>${r.errorMessage ?? '—'}</td>
                  <td>${r.ceType ?? '—'}<br /><code>${r.ceId ?? '—'}</code></td>
                  <td><code>${r.key ?? '—'}</code></td>
                  <td>${replayButton(r, ctx)}</td>
                </tr>`,
            )}
          </tbody>
        </table>`;
  return layout(
    'Dead-letter queue',
    ctx,
    html`${intro}
      <p data-dlq-state="ok">
        Topic <code>${list.topic}</code>: ${boundsText(list.partitions)}. Read without a consumer group.
      </p>
      ${filterForm} ${rows}
      ${
        list.more
          ? html`<p class="muted">
              Showing the first ${data.limit}; narrow the filter or use <code>shopstream dlq list</code>.
            </p>`
          : ''
      }`,
  );
}

const prettyValue = (r: DlqRecord): string => {
  if (r.value === null) return '(null)';
  if (r.valueEncoding === 'base64') return `(not UTF-8; base64) ${r.value}`;
  try {
    return json(JSON.parse(r.value));
  } catch {
    return r.value;
  }
};

/** One DLQ record: where it came from, why, every header and the value, and its Replay button. */
export function dlqRecordPage(
  data: { topic: string; record: DlqRecord; replayedTo?: string },
  ctx: PageContext,
): Html {
  const r = data.record;
  return layout(
    `DLQ record ${r.partition}:${r.offset}`,
    ctx,
    html`${
        data.replayedTo
          ? html`<p class="notice" role="status">
              Replayed to <code>${data.replayedTo}</code>: the consumer applies it again (once; its inbox
              drops duplicates).
            </p>`
          : ''
      }
      <dl data-dlq-record="${r.partition}:${r.offset}">
        <dt>DLQ topic</dt>
        <dd><code>${data.topic}</code> partition ${r.partition} offset ${r.offset}</dd>
        <dt>dead-lettered</dt>
        <dd>${r.timestamp}</dd>
        <dt>original</dt>
        <dd>
          <code>${r.originalTopic ?? '?'}</code> partition ${r.originalPartition ?? '?'} offset
          ${r.originalOffset ?? '?'}
        </dd>
        <dt>error</dt>
        <dd><b>${r.errorCode ?? '—'}</b> ${r.errorMessage ?? ''}</dd>
        <dt>event</dt>
        <dd>${r.ceType ?? '—'} <code>${r.ceId ?? '—'}</code></dd>
        <dt>key</dt>
        <dd><code>${r.key ?? '(null)'}</code>${r.keyEncoding === 'base64' ? ' (base64)' : ''}</dd>
      </dl>
      <p>${replayButton(r, ctx)}</p>
      <h2>Headers</h2>
      <pre>${json(r.headers)}</pre>
      <h2>Value</h2>
      <pre data-testid="dlq-value">${prettyValue(r)}</pre>`,
  );
}
