import { sign } from 'hono/jwt';
import { isUuid } from '@shopstream/shared';

/**
 * Local development only: prints a seller token signed with JWT_SECRET (HS256), valid for 24 h.
 * Usage: node dev-token.js <seller-uuid>
 */
async function main(): Promise<void> {
  const seller = process.argv[2];
  const secret = process.env.JWT_SECRET;
  if (!seller || !isUuid(seller)) throw new Error('usage: dev-token <seller-uuid>');
  if (!secret)
    throw new Error('JWT_SECRET is not set: run through `npm start`, which generates local secrets');
  const token = await sign({ sub: seller, exp: Math.floor(Date.now() / 1000) + 24 * 3600 }, secret, 'HS256');
  process.stdout.write(`${token}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
