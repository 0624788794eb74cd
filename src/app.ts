/**
 * The composition root: builds the program from its config — the store, the domain core, the
 * delivery worker and the maintenance timer — and shuts them down in order. The HTTP adapter
 * (`http/server.ts`) serves an app it is given; the CLI's operator commands run against one.
 */
import type { Config } from './config.js';
import { Mailbox } from './core/mailbox.js';
import { a2aTransport } from './delivery/a2a-transport.js';
import { httpTransport } from './delivery/transport.js';
import { federationTransport } from './delivery/federation-transport.js';
import { DeliveryWorker } from './delivery/worker.js';
import { openStore } from './store/open.js';
import type { Store } from './store/types.js';

/** Where the background work reports (the server passes its request logger). */
export interface AppLog {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface AmtpApp {
  readonly config: Config;
  readonly store: Store;
  readonly core: Mailbox;
  /** Starts the background work: the delivery worker and the hourly retention sweep (one at once), which then refreshes the planner's statistics. */
  start(log: AppLog): void;
  /**
   * First step of a shutdown: stops the retention timer, releases every long-poll and stream, and
   * stops the delivery worker (deliveries in flight finish). The store stays open.
   */
  stop(): Promise<void>;
  /** Stops (if not yet), then closes the core: the webhook transport, then the store. */
  close(): Promise<void>;
}

const RETENTION_SWEEP_MS = 3_600_000;

/** The app over the configured store (or `options.store`, already migrated). */
export async function createApp(config: Config, options: { store?: Store } = {}): Promise<AmtpApp> {
  const store = options.store ?? (await openStore(config));
  const relay = federationTransport({
    allowHttp: config.federation.allowHttp,
    allowLoopback: config.federation.allowLoopback,
    timeoutSeconds: config.webhooks.timeoutSeconds,
  });
  const core = new Mailbox(store, config, httpTransport(config.webhooks), a2aTransport(config.webhooks), relay);
  let log: AppLog | undefined;
  const worker = new DeliveryWorker(core.outbox, core.notifier, {
    concurrency: config.webhooks.concurrency,
    leaseMs: config.webhooks.leaseSeconds * 1000,
    onError: (err) => log?.error({ err }, 'webhook delivery failed'),
  });
  let maintenance: NodeJS.Timeout | undefined;
  let started = false;
  let stopping: Promise<void> | undefined;

  const sweep = () =>
    core
      .maintain()
      .then((removed) => (removed.messages || removed.events) && log?.info(removed, 'retention: removed'))
      .then(() => store.optimize())
      .catch((err: unknown) => log?.error({ err }, 'retention sweep failed'));

  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(maintenance);
      core.notifier.close();
      if (started) await worker.stop();
    })());

  return {
    config,
    store,
    core,
    start(logTo) {
      if (started) return;
      started = true;
      log = logTo;
      void sweep();
      void core.federation.recordPolicy().catch((err: unknown) => log?.error({ err }, 'recording the federation policy failed'));
      maintenance = setInterval(() => void sweep(), RETENTION_SWEEP_MS).unref();
      worker.start();
    },
    stop,
    async close() {
      await stop();
      await relay.close();
      await core.close();
    },
  };
}
