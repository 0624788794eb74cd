/** A real webhook receiver on loopback that records every request; its answer is programmable. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status answered; 0 when the receiver reset the connection or never answered. */
  status: number;
}

/** A status; 'reset' drops the connection; 'hang' never answers; `{ status, delayMs }` answers late. */
export type Answer = number | 'reset' | 'hang' | { status: number; delayMs: number };

export async function startReceiver(answer: (n: number, body: string) => Answer = () => 200) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const how = answer(received.length, body);
      const status = typeof how === 'number' ? how : typeof how === 'object' ? how.status : 0;
      received.push({ headers: req.headers, body, status });
      if (how === 'reset') return req.socket.destroy();
      if (how === 'hang') return;
      const reply = () => res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
      if (typeof how === 'object') setTimeout(reply, how.delayMs);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    /** The requests the receiver accepted (2xx). */
    accepted: () => received.filter((r) => r.status >= 200 && r.status < 300),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Polls `check` until it returns a truthy value; fails after `timeoutMs` (a guard, not a speed test). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
