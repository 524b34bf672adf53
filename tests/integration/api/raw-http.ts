import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target as bytes on the wire: percent-encoding, or raw bytes no client library would send. */
  target: string | Buffer;
  headers?: [name: string, value: string | Buffer][];
  body?: string | Buffer;
}

export interface RawResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

const bytes = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v, 'latin1') : v);

/**
 * One HTTP/1.1 request written byte for byte on a fresh loopback connection. fetch and
 * http.request refuse to send a U+0000 in a header, or anything but Latin-1; a client on the
 * network is not so polite, so the fuzz tests talk to the server the way such a client would.
 */
export async function rawRequest(baseUrl: string, request: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const body =
    request.body === undefined
      ? undefined
      : typeof request.body === 'string'
        ? Buffer.from(request.body, 'utf8')
        : request.body;
  const head: Buffer[] = [
    Buffer.from(`${request.method} `),
    bytes(request.target),
    Buffer.from(` HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n`),
  ];
  for (const [name, value] of request.headers ?? [])
    head.push(Buffer.from(`${name}: `), bytes(value), Buffer.from('\r\n'));
  if (body) head.push(Buffer.from(`Content-Length: ${body.length}\r\n`));
  head.push(Buffer.from('\r\n'));
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => {
      socket.write(Buffer.concat([...head, ...(body ? [body] : [])]));
    });
    socket.setTimeout(30_000, () => socket.destroy(new Error('no response within 30 s')));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
  return parseResponse(raw);
}

function parseResponse(raw: Buffer): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0)
    throw new Error(`not an HTTP response: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const [statusLine = '', ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let payload = raw.subarray(split + 4);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') payload = dechunk(payload);
  return { status, headers, body: payload.toString('utf8') };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!size) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
