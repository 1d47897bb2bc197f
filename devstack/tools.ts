/**
 * Where the dev tooling finds and keeps its binaries, and free loopback ports for what it starts.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** `$AGENTRUNS_CACHE_DIR`, else ~/.cache/agentruns: binaries built once live in its `bin/`. */
export function cacheDir(): string {
  return process.env.AGENTRUNS_CACHE_DIR ?? join(homedir(), '.cache', 'agentruns');
}

/** The first `name` on PATH, if any. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** A port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
