import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { FieldIssue, Logger } from '@shopstream/shared';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import type { Problem } from './problem.js';

/**
 * Serves `app` over HTTP. Requests Node's parser refuses before the app sees them (a U+0000 or
 * other control byte in a header or the URL, headers too large) are answered like every other
 * refusal: problem+json with a stable `code` and, where the bytes say which, the offending field,
 * instead of Node's bare "400 Bad Request".
 */
export function listen(
  app: Hono,
  options: { hostname: string; port: number; logger?: Logger },
  onListening?: (info: { address: string; port: number }) => void,
): Server {
  const server = serve(
    { fetch: app.fetch, hostname: options.hostname, port: options.port },
    onListening,
  ) as Server;
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const problem = parserRefusal(err);
    options.logger?.debug({ code: err.code, status: problem.status }, 'request refused by the HTTP parser');
    const body = JSON.stringify(problem);
    socket.end(
      `HTTP/1.1 ${problem.status} ${problem.title}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  });
  return server;
}

/** The problem for a request Node's HTTP parser refused, naming the header or query parameter when it can. */
export function parserRefusal(err: { code?: string; rawPacket?: Buffer }): Problem {
  const problem = (
    status: number,
    title: string,
    code: string,
    detail: string,
    errors?: FieldIssue[],
  ): Problem => ({
    type: `https://shopstream.io/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title,
    status,
    detail,
    code,
    ...(errors ? { errors } : {}),
  });
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return problem(
      431,
      'Request Header Fields Too Large',
      'HEADERS_TOO_LARGE',
      'request headers are too large',
    );
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return problem(408, 'Request Timeout', 'REQUEST_TIMEOUT', 'the request was not received in time');
  }
  const offending = offendingField(err.rawPacket);
  return problem(
    400,
    'Bad Request',
    offending ? 'VALIDATION_FAILED' : 'MALFORMED_REQUEST',
    offending ? `invalid ${offending.field}` : 'the request is not valid HTTP',
    offending ? [offending] : undefined,
  );
}

// eslint-disable-next-line no-control-regex -- finding control bytes is the point
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
// A request target is printable ASCII; anything else must be percent-encoded.
const NOT_URL = /[^\x21-\x7e]/;

const describe = (text: string): string =>
  CONTROL.test(text) ? 'must not contain U+0000 or other control characters' : 'must be percent-encoded';

/** The header, query parameter or "path" whose bytes Node refused, if the packet shows which. */
function offendingField(raw: Buffer | undefined): FieldIssue | undefined {
  if (!raw) return undefined;
  const [requestLine = '', ...headers] = raw.toString('latin1').split('\r\n');
  for (const line of headers) {
    if (!line) break;
    const colon = line.indexOf(':');
    const value = line.slice(colon + 1);
    if (colon > 0 && CONTROL.test(value))
      return { field: line.slice(0, colon).trim(), message: describe(value) };
  }
  // "GET <target> HTTP/1.1": the target is everything between the first and the last space.
  const target = requestLine.slice(requestLine.indexOf(' ') + 1, requestLine.lastIndexOf(' '));
  if (!NOT_URL.test(target)) return undefined;
  const question = target.indexOf('?');
  if (question < 0 || !NOT_URL.test(target.slice(question)))
    return { field: 'path', message: describe(target) };
  for (const pair of target.slice(question + 1).split('&')) {
    if (NOT_URL.test(pair)) return { field: queryName(pair.split('=')[0] ?? ''), message: describe(pair) };
  }
  return undefined;
}

function queryName(raw: string): string {
  try {
    return decodeURIComponent(raw) || 'query';
  } catch {
    return raw || 'query';
  }
}
