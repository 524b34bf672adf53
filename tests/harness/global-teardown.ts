/**
 * Jest global teardown of the integration project: names what is still open in Jest's own process
 * once every test file has finished (tests run in band on a 2-core machine, so a child process,
 * socket or timer a test left behind lives here). `npm test` runs Jest with --forceExit so that such
 * a leftover cannot hold a finished run until CI's time limit; this line says what to fix.
 * Timers are not listed: Node keeps no public list of them (and Jest has one of its own here); a
 * leaked timer is found with the inspector on a run started without --forceExit.
 * Jest loads this file outside its ESM loader, so it imports nothing of ours.
 */
export default function globalTeardown(): void {
  const getHandles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  const described = (getHandles?.call(process) ?? [])
    .map((h) => {
      const handle = h as {
        constructor?: { name?: string };
        spawnfile?: string;
        spawnargs?: string[];
        pid?: number;
        remoteAddress?: string;
        remotePort?: number;
        fd?: number;
      };
      const kind = handle.constructor?.name ?? typeof h;
      if (handle.pid !== undefined) return `${kind} pid ${handle.pid}: ${(handle.spawnargs ?? []).join(' ')}`;
      if (handle.remotePort !== undefined) return `${kind} to ${handle.remoteAddress}:${handle.remotePort}`;
      if (handle.fd !== undefined && handle.fd <= 2) return undefined; // Jest's own stdio
      return kind;
    })
    .filter((d): d is string => d !== undefined);
  const resources = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
  if (described.length) {
    process.stderr.write(
      `\n[teardown] still open after the last test file (a test's cleanup missed them):\n  ${described.join('\n  ')}\n` +
        `[teardown] active resources: ${resources.join(', ')}\n`,
    );
  }
}
