/** The ceiling: the same HTTP framework on the same machine answering a trivial 202. */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/api/messages', async (_req, reply) => reply.code(202).send({ status: 'queued' }));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${url}\n`);
