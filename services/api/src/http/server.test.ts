import { parserRefusal } from './server.js';

const packet = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('parserRefusal', () => {
  it('names the header holding a control byte', () => {
    const problem = parserRefusal({
      code: 'HPE_INVALID_HEADER_TOKEN',
      rawPacket: packet('POST /products HTTP/1.1\r\nHost: a\r\nIdempotency-Key: a\u0000b\r\n\r\n'),
    });
    expect(problem).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      errors: [{ field: 'Idempotency-Key', message: 'must not contain U+0000 or other control characters' }],
    });
  });

  it('names the query parameter or the path holding a byte a URL cannot carry', () => {
    expect(
      parserRefusal({
        code: 'HPE_INVALID_URL',
        rawPacket: packet('GET /products/search?limit=2&q=a\u0000 HTTP/1.1\r\n\r\n'),
      }).errors,
    ).toEqual([{ field: 'q', message: 'must not contain U+0000 or other control characters' }]);
    expect(
      parserRefusal({
        code: 'HPE_INVALID_URL',
        rawPacket: packet('GET /products/\u00ed\u00a0\u0080 HTTP/1.1\r\n\r\n'),
      }).errors,
    ).toEqual([{ field: 'path', message: 'must be percent-encoded' }]);
  });

  it('answers 431 for oversized headers and 400 MALFORMED_REQUEST when it cannot tell', () => {
    expect(parserRefusal({ code: 'HPE_HEADER_OVERFLOW' })).toMatchObject({
      status: 431,
      code: 'HEADERS_TOO_LARGE',
    });
    expect(
      parserRefusal({ code: 'HPE_INVALID_METHOD', rawPacket: packet('BR3W / HTTP/1.1\r\n\r\n') }),
    ).toMatchObject({
      status: 400,
      code: 'MALFORMED_REQUEST',
    });
  });
});
