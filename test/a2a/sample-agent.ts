/**
 * An A2A agent on loopback built as the `@a2a-js/sdk` samples build one (DefaultRequestHandler,
 * InMemoryTaskStore, the Express JSON-RPC transport): it answers every message with a completed task
 * whose reply echoes the text and data it received, and remembers what it received.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { AgentCard, Role, TaskState, type Message } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor } from '@a2a-js/sdk/server';
import { jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';

export interface SampleAgent {
  url: string;
  cardUrl: string;
  received: Message[];
  close(): Promise<void>;
}

export async function startSampleAgent(name = 'Echo agent'): Promise<SampleAgent> {
  const received: Message[] = [];
  const executor: AgentExecutor = {
    execute(context, bus) {
      const { taskId, contextId, userMessage } = context;
      received.push(userMessage);
      const now = () => new Date().toISOString();
      bus.publish(
        AgentEvent.task({
          id: taskId,
          contextId,
          status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: now() },
          artifacts: [],
          history: [userMessage],
          metadata: undefined,
        }),
      );
      const text = userMessage.parts.map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('');
      const data = userMessage.parts.flatMap((p) => (p.content?.$case === 'data' ? [p.content.value as unknown] : []));
      const reply: Message = {
        messageId: randomUUID(),
        contextId,
        taskId,
        role: Role.ROLE_AGENT,
        metadata: undefined,
        extensions: [],
        referenceTaskIds: [],
        parts: [
          { content: { $case: 'text', value: `echo: ${text}` }, metadata: undefined, filename: '', mediaType: 'text/plain' },
          { content: { $case: 'data', value: { received: data } }, metadata: undefined, filename: '', mediaType: 'application/json' },
        ],
      };
      bus.publish(
        AgentEvent.statusUpdate({
          taskId,
          contextId,
          status: { state: TaskState.TASK_STATE_COMPLETED, message: reply, timestamp: now() },
          metadata: undefined,
        }),
      );
      bus.finished();
      return Promise.resolve();
    },
    cancelTask: () => Promise.resolve(),
  };
  const app = express();
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const card = AgentCard.fromJSON({
    name,
    description: 'Echoes what it receives.',
    version: '1.0.0',
    supportedInterfaces: [{ url: `${url}/a2a/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' }],
    capabilities: { streaming: false, pushNotifications: false },
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [{ id: 'echo', name: 'Echo', description: 'Echoes', tags: ['echo'] }],
  });
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor);
  app.get('/.well-known/agent-card.json', (_req, res) => void res.json(AgentCard.toJSON(card)));
  app.use('/a2a/jsonrpc', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  return {
    url,
    cardUrl: `${url}/.well-known/agent-card.json`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
