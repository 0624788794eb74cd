/** Memory with many open SSE streams: the server's RSS before and after opening them. */
import { request, type ClientRequest } from 'node:http';
import { rssMiB, type Seeded } from './lib.js';

export async function streamMemory(
  url: string,
  pid: number,
  seeded: Seeded,
  count: number,
): Promise<{ before: number; after: number; open: number }> {
  const before = rssMiB(pid);
  const requests: ClientRequest[] = [];
  let open = 0;
  await Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        new Promise<void>((resolve, reject) => {
          const req = request(
            `${url}/api/inbox/stream`,
            { headers: { authorization: `Bearer ${seeded.keys[i % seeded.keys.length]}` }, agent: false },
            (res) => {
              if (res.statusCode !== 200) return reject(new Error(`stream ${i}: ${res.statusCode}`));
              open++;
              res.once('data', () => resolve());
            },
          );
          req.on('error', () => undefined);
          requests.push(req);
          req.end();
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, 500));
  const after = rssMiB(pid);
  for (const req of requests) req.destroy();
  return { before, after, open };
}
