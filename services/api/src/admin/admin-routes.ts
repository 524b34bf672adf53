import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DlqAdminError, OutboxAdminError } from '@shopstream/shared';
import type { Logger, OutboxAdmin } from '@shopstream/shared';
import type { LoggerVariables } from '../http/request-logger.js';
import { RETRY_AFTER_SECONDS, problemResponse } from '../http/problem.js';
import { isDatabaseUnavailable } from '../http/database-unavailable.js';
import {
  AdminInputError,
  parseDlqPosition,
  parseDlqQuery,
  parseEventId,
  parseOutboxQuery,
} from './admin-input.js';
import {
  DEFAULT_SESSION_TTL_MS,
  SESSION_COOKIE,
  adminSessionKeys,
  csrfTokenFor,
  csrfTokenValid,
  issueSession,
  secretsEqual,
  verifySession,
} from './admin-session.js';
import {
  deadPage,
  dlqPage,
  dlqRecordPage,
  errorPage,
  eventPage,
  lagPage,
  loginPage,
  outboxPage,
  overviewPage,
} from './admin-views.js';
import type { PageContext } from './admin-views.js';
import { DlqUnavailableError, unconfiguredDlq } from './dlq-source.js';
import type { DlqSource } from './dlq-source.js';
import type { LagSource } from './lag-source.js';

export interface AdminDeps {
  /** ADMIN_TOKEN: what an operator logs in with or sends as `Authorization: Bearer`. */
  adminToken: string;
  outbox: Pick<OutboxAdmin, 'list' | 'show' | 'overview' | 'requeue' | 'skip'>;
  lag: LagSource;
  /** The dead-letter topic; without it the DLQ view says Kafka is not configured. */
  dlq?: DlqSource;
  logger: Logger;
  now?: () => number;
  sessionTtlMs?: number;
}

type AdminIdentity = { via: 'session'; nonce: string; csrf: string } | { via: 'bearer' };
type AdminEnv = { Variables: Partial<LoggerVariables> & { admin: AdminIdentity } };

const PAGE_SIZE = 50;
const DLQ_PAGE_SIZE = 100;
const ACTIONS = ['requeue', 'skip'] as const;
type Action = (typeof ACTIONS)[number];

class AdminPageError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly title: string,
    readonly problems: string[],
  ) {
    super(problems.join('; '));
  }
}

// The pages carry no script and load nothing from elsewhere; forms post only to this origin.
const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header('Cache-Control', 'no-store');
  c.header(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  c.header('X-Frame-Options', 'DENY');
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
};

/**
 * The admin page under /admin: server-rendered HTML, usable without JavaScript. Every route but the
 * login needs the admin token (a signed session cookie from the login form, or a Bearer header);
 * GET routes only read, and the two actions are POSTs carrying the session's CSRF token.
 */
export function createAdminRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const keys = adminSessionKeys(deps.adminToken);
  const now = deps.now ?? Date.now;
  const ttlMs = deps.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  const log = (c: Context<AdminEnv>): Logger => c.get('log') ?? deps.logger;
  const pageContext = (c: Context<AdminEnv>): PageContext => {
    const admin = c.get('admin');
    return admin.via === 'session' ? { csrf: admin.csrf } : {};
  };
  const secure = (c: Context): boolean =>
    new URL(c.req.url).protocol === 'https:' || c.req.header('X-Forwarded-Proto') === 'https';

  app.use(securityHeaders);
  app.onError((err, c) => {
    if (err instanceof AdminInputError) {
      return c.html(errorPage('Bad request', err.problems, pageContextOrNone(c)), 400);
    }
    if (err instanceof AdminPageError) {
      return c.html(errorPage(err.title, err.problems, pageContextOrNone(c)), err.status);
    }
    if (err instanceof DlqAdminError) {
      const missing = err.reason !== 'bad-input';
      return c.html(
        errorPage(missing ? 'Not found' : 'Bad request', [err.message], pageContextOrNone(c)),
        missing ? 404 : 400,
      );
    }
    if (err instanceof DlqUnavailableError) {
      log(c).warn({ err, path: c.req.path }, 'admin page: Kafka unavailable');
      c.header('Retry-After', String(RETRY_AFTER_SECONDS));
      return c.html(errorPage('Kafka unavailable', [err.message], pageContextOrNone(c)), 503);
    }
    if (isDatabaseUnavailable(err)) {
      log(c).warn({ err, path: c.req.path }, 'admin page: database unavailable');
      c.header('Retry-After', String(RETRY_AFTER_SECONDS));
      return c.html(
        errorPage(
          'Database unavailable',
          ['the database is unavailable; try again shortly'],
          pageContextOrNone(c),
        ),
        503,
      );
    }
    log(c).error({ err, path: c.req.path }, 'admin page failed');
    return c.html(
      errorPage('Something went wrong', ['the request failed; see the API log'], pageContextOrNone(c)),
      500,
    );
  });
  const pageContextOrNone = (c: Context<AdminEnv>): PageContext | undefined =>
    c.get('admin') ? pageContext(c) : undefined;

  // Registered before the guard below, so they answer without a session.
  app.get('/login', (c) => c.html(loginPage()));
  app.post('/login', async (c) => {
    const body = await c.req.parseBody();
    const token = typeof body.token === 'string' ? body.token : '';
    if (!token || !secretsEqual(token, deps.adminToken)) {
      log(c).warn({ action: 'login', outcome: 'refused' }, 'admin login refused');
      return c.html(loginPage('That is not the admin token.'), 401);
    }
    setCookie(c, SESSION_COOKIE, issueSession(keys, now()), {
      path: '/admin',
      httpOnly: true,
      sameSite: 'Strict',
      secure: secure(c),
      maxAge: Math.floor(ttlMs / 1000),
    });
    log(c).info({ action: 'login', outcome: 'ok' }, 'admin login');
    return c.redirect('/admin', 303);
  });

  app.use(async (c, next) => {
    const authorization = c.req.header('Authorization');
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (match?.[1] && secretsEqual(match[1], deps.adminToken)) {
        c.set('admin', { via: 'bearer' });
        return next();
      }
      return unauthorized(c, 'That is not the admin token.');
    }
    const cookie = getCookie(c, SESSION_COOKIE);
    const session = verifySession(keys, cookie, now(), ttlMs);
    if (!session) {
      if (cookie) deleteCookie(c, SESSION_COOKIE, { path: '/admin' });
      return unauthorized(c, cookie ? 'Your session has expired: log in again.' : undefined);
    }
    c.set('admin', { via: 'session', nonce: session.nonce, csrf: csrfTokenFor(keys, session.nonce) });
    return next();
  });

  app.get('/', async (c) => {
    const [overview, lag] = await Promise.all([deps.outbox.overview(), deps.lag.report()]);
    return c.html(
      overviewPage({ overview, lag, generatedAt: new Date(now()).toISOString() }, pageContext(c)),
    );
  });

  app.get('/outbox', async (c) => {
    const query = parseOutboxQuery(c.req.query());
    // One row more than a page says whether a next page exists without counting the table.
    const rows = await deps.outbox.list({ ...query, limit: PAGE_SIZE + 1 });
    const page = rows.slice(0, PAGE_SIZE);
    const nextAfter = rows.length > PAGE_SIZE ? page[page.length - 1]?.seq : undefined;
    return c.html(outboxPage({ rows: page, query, ...(nextAfter ? { nextAfter } : {}) }, pageContext(c)));
  });

  app.get('/outbox/:id', async (c) => {
    const id = parseEventId(c.req.param('id'));
    const event = await deps.outbox.show(id);
    if (!event) throw new AdminPageError(404, 'Not found', [`no outbox event ${id}`]);
    const done = c.req.query('done');
    const known = (ACTIONS as readonly string[]).includes(done ?? '');
    return c.html(eventPage({ event, ...(known ? { done } : {}) }, pageContext(c)));
  });

  app.get('/dead', async (c) => {
    const rows = await deps.outbox.list({ status: 'DEAD', limit: PAGE_SIZE + 1 });
    return c.html(
      deadPage({ rows: rows.slice(0, PAGE_SIZE), more: rows.length > PAGE_SIZE }, pageContext(c)),
    );
  });

  app.get('/lag', async (c) => c.html(lagPage(await deps.lag.report(), pageContext(c))));

  const dlq = deps.dlq ?? unconfiguredDlq;
  app.get('/dlq', async (c) => {
    const query = parseDlqQuery(c.req.query());
    const listing = await dlq.list(query, DLQ_PAGE_SIZE);
    return c.html(dlqPage({ listing, query, limit: DLQ_PAGE_SIZE }, pageContext(c)));
  });

  app.get('/dlq/:partition/:offset', async (c) => {
    const position = parseDlqPosition(c.req.param('partition'), c.req.param('offset'));
    const record = await dlq.show(position);
    if (!record) {
      throw new AdminPageError(404, 'Not found', [
        `no DLQ record at ${position.partition}:${position.offset} of ${dlq.topic ?? 'the DLQ topic'}`,
      ]);
    }
    const replayedTo = c.req.query('replayed');
    return c.html(
      dlqRecordPage(
        {
          topic: dlq.topic ?? '',
          record,
          ...(replayedTo && replayedTo === record.originalTopic ? { replayedTo } : {}),
        },
        pageContext(c),
      ),
    );
  });

  const requireCsrf = async (c: Context<AdminEnv>): Promise<void> => {
    const admin = c.get('admin');
    // A browser never attaches an Authorization header by itself, so Bearer requests cannot be forged.
    if (admin.via === 'bearer') return;
    const body = await c.req.parseBody();
    if (!csrfTokenValid(keys, admin.nonce, body._csrf)) {
      log(c).warn({ path: c.req.path, outcome: 'refused', reason: 'csrf' }, 'admin action refused');
      throw new AdminPageError(403, 'Forbidden', [
        'the form is stale or came from another site (CSRF token missing or wrong): reload the page and try again',
      ]);
    }
  };

  const action = (name: Action) => async (c: Context<AdminEnv>) => {
    const id = parseEventId(c.req.param('id') ?? '');
    await requireCsrf(c);
    const fields = { action: name, eventId: id, via: c.get('admin').via };
    try {
      if (name === 'requeue') await deps.outbox.requeue({ id });
      else await deps.outbox.skip(id);
    } catch (err) {
      if (!(err instanceof OutboxAdminError)) throw err;
      log(c).warn({ ...fields, outcome: 'refused', reason: err.message }, 'admin action');
      const missing = err.message.startsWith('no outbox event');
      throw new AdminPageError(missing ? 404 : 409, missing ? 'Not found' : 'Not possible', [err.message]);
    }
    log(c).info({ ...fields, outcome: name === 'requeue' ? 'requeued' : 'skipped' }, 'admin action');
    return c.redirect(`/admin/outbox/${id}?done=${name}`, 303);
  };
  app.post('/outbox/:id/requeue', action('requeue'));
  app.post('/outbox/:id/skip', action('skip'));
  // Anything but POST on an action URL is refused before it could reach the outbox.
  app.all('/outbox/:id/:action{requeue|skip}', () => {
    throw new AdminPageError(405, 'Method not allowed', ['actions are POST forms: use the buttons']);
  });

  app.post('/dlq/:partition/:offset/replay', async (c) => {
    const position = parseDlqPosition(c.req.param('partition'), c.req.param('offset'));
    await requireCsrf(c);
    const fields = {
      action: 'dlq-replay',
      dlqTopic: dlq.topic,
      partition: position.partition,
      offset: position.offset,
      via: c.get('admin').via,
    };
    let outcome;
    try {
      outcome = await dlq.replay(position);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      log(c).warn({ ...fields, outcome: 'refused', reason }, 'admin action');
      throw err;
    }
    const { record, report } = outcome;
    const failed = report.failed[0];
    if (failed) {
      log(c).warn(
        { ...fields, originalTopic: failed.topic, outcome: 'failed', reason: failed.reason },
        'admin action',
      );
      throw new AdminPageError(failed.topic ? 502 : 409, failed.topic ? 'Replay failed' : 'Not possible', [
        `DLQ record ${position.partition}:${position.offset} was not replayed: ${failed.reason}`,
      ]);
    }
    log(c).info(
      { ...fields, originalTopic: record.originalTopic, ceId: record.ceId, outcome: 'replayed' },
      'admin action',
    );
    const to = encodeURIComponent(record.originalTopic ?? '');
    return c.redirect(`/admin/dlq/${position.partition}/${position.offset}?replayed=${to}`, 303);
  });
  app.all('/dlq/:partition/:offset/replay', () => {
    throw new AdminPageError(405, 'Method not allowed', ['replay is a POST form: use the button']);
  });

  app.post('/logout', async (c) => {
    await requireCsrf(c);
    deleteCookie(c, SESSION_COOKIE, { path: '/admin' });
    log(c).info({ action: 'logout', outcome: 'ok' }, 'admin logout');
    return c.redirect('/admin/login', 303);
  });

  return app;

  function unauthorized(c: Context<AdminEnv>, message?: string): Response | Promise<Response> {
    c.header('WWW-Authenticate', 'Bearer realm="shopstream-admin"');
    return c.html(loginPage(message), 401);
  }
}

/** Without ADMIN_TOKEN the admin page does not exist: every /admin URL says so as problem+json. */
export function createDisabledAdminRoutes(): Hono {
  const app = new Hono();
  app.all('*', (c) =>
    problemResponse(c, {
      type: 'https://shopstream.io/problems/admin-disabled',
      title: 'Not Found',
      status: 404,
      detail: 'the admin page is disabled: set ADMIN_TOKEN (at least 32 characters) to enable it',
      code: 'ADMIN_DISABLED',
      instance: c.req.path,
    }),
  );
  return app;
}
