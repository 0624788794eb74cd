/**
 * Every read, written once for both backends. A backend supplies `rows` (run one query with `?`
 * placeholders) and its dialect; the rest of the Store is its own (writes, migrations, lifecycle).
 */
import type {
  A2ACanceledRecord,
  A2APeerRecord,
  AuditRecord,
  BudgetPeriod,
  GrantLimitRecord,
  GuardSettingsRecord,
  HeldRecord,
  LoopRecord,
  PairBudgetRecord,
  SendGuardState,
  BlockRecord,
  ConversationRow,
  DeliveryRecord,
  DeliveryStats,
  GrantRecord,
  InboxOptions,
  InviteRecord,
  PairConsent,
  RelayRecord,
  RemoteAgentRecord,
  RequestRecord,
  ResultsOf,
  ServerKeyRecord,
  Store,
  WriteOp,
} from './types.js';
import type { Dialect } from './dialect.js';
import { DELIVERY_COLUMNS } from './outbox.js';
import { decoders, type Decoders, type Row } from './rows.js';

export abstract class SqlReads implements Store {
  abstract readonly dialect: Store['dialect'];
  abstract migrate(): Promise<void>;
  abstract close(): Promise<void>;
  abstract optimize(): Promise<void>;
  abstract apply<const T extends readonly WriteOp[]>(ops: T): Promise<ResultsOf<T>>;
  protected abstract rows(sql: string, params: unknown[]): Promise<Row[]>;

  private readonly decode: Decoders;

  constructor(private readonly sql: Dialect) {
    this.decode = decoders(sql);
  }

  async serverKeys() {
    return (await this.rows('SELECT * FROM server_keys ORDER BY current IS NULL, created_at DESC', [])) as unknown as ServerKeyRecord[];
  }
  async remoteAgent(agent_id: string) {
    return (await this.one('SELECT * FROM remote_agents WHERE agent_id = ?', [agent_id])) as RemoteAgentRecord | null;
  }
  async relays(message_ids: string[]) {
    if (message_ids.length === 0) return [];
    return (await this.rows(`SELECT * FROM relays WHERE ${this.sql.inList('message_id', 'text')}`, [
      this.sql.list(message_ids),
    ])) as unknown as RelayRecord[];
  }

  private async one(sql: string, params: unknown[]): Promise<Row | null> {
    return (await this.rows(sql, params))[0] ?? null;
  }
  private async count(sql: string, params: unknown[]): Promise<number> {
    return Number((await this.one(sql, params))!.n ?? 0);
  }
  private async agentWhere(where: string, value: string) {
    const row = await this.one(`SELECT * FROM agents WHERE ${where} = ?`, [value]);
    return row && this.decode.agent(row);
  }

  agentById(id: string) {
    return this.agentWhere('id', id);
  }
  agentByName(name: string) {
    return this.agentWhere('name', name);
  }
  agentByKeyHash(hash: string) {
    return this.agentWhere('api_key_hash', hash);
  }
  async agentsByIds(ids: string[]) {
    if (ids.length === 0) return [];
    return (await this.rows(`SELECT * FROM agents WHERE ${this.sql.inList('id', 'text')}`, [this.sql.list(ids)])).map(this.decode.agent);
  }

  async grant(granter_id: string, grantee_id: string) {
    const row = await this.one('SELECT * FROM grants WHERE granter_id = ? AND grantee_id = ?', [granter_id, grantee_id]);
    return row && this.decode.grant(row);
  }
  async grantsInvolving(agent_id: string) {
    return (await this.rows('SELECT * FROM grants WHERE granter_id = ? OR grantee_id = ?', [agent_id, agent_id])).map(this.decode.grant);
  }
  async isBlocked(blocker_id: string, blocked_id: string) {
    return (await this.one('SELECT 1 FROM blocks WHERE blocker_id = ? AND blocked_id = ?', [blocker_id, blocked_id])) !== null;
  }
  async pairConsent(a: string, b: string): Promise<PairConsent> {
    const rows = await this.rows(
      `SELECT 'grant' AS kind, granter_id AS from_id, grantee_id AS to_id, scopes, created_at, updated_at FROM grants
        WHERE (granter_id = ? AND grantee_id = ?) OR (granter_id = ? AND grantee_id = ?)
       UNION ALL
       SELECT 'block', blocker_id, blocked_id, NULL, NULL, NULL FROM blocks
        WHERE (blocker_id = ? AND blocked_id = ?) OR (blocker_id = ? AND blocked_id = ?)`,
      [a, b, b, a, a, b, b, a],
    );
    const find = (kind: string, from: string) => rows.find((r) => r.kind === kind && r.from_id === from);
    const grant = (from: string, to: string): GrantRecord | null => {
      const r = find('grant', from);
      return r
        ? this.decode.grant({ granter_id: from, grantee_id: to, scopes: r.scopes, created_at: r.created_at, updated_at: r.updated_at })
        : null;
    };
    return { aToB: grant(a, b), bToA: grant(b, a), aBlocksB: Boolean(find('block', a)), bBlocksA: Boolean(find('block', b)) };
  }
  async blocksInvolving(agent_id: string) {
    return (await this.rows('SELECT * FROM blocks WHERE blocker_id = ? OR blocked_id = ?', [
      agent_id,
      agent_id,
    ])) as unknown as BlockRecord[];
  }

  async request(id: string) {
    const row = await this.one('SELECT * FROM contact_requests WHERE id = ?', [id]);
    return row && this.decode.request(row);
  }
  async pendingRequest(from_id: string, to_id: string) {
    const row = await this.one("SELECT * FROM contact_requests WHERE from_id = ? AND to_id = ? AND status = 'pending'", [from_id, to_id]);
    return row && this.decode.request(row);
  }
  async requests(agent_id: string, filter: { direction?: 'incoming' | 'outgoing'; status?: RequestRecord['status'] }) {
    const who =
      filter.direction === 'incoming' ? 'to_id = ?' : filter.direction === 'outgoing' ? 'from_id = ?' : '(to_id = ? OR from_id = ?)';
    const params: unknown[] = filter.direction ? [agent_id] : [agent_id, agent_id];
    let sql = `SELECT * FROM contact_requests WHERE ${who}`;
    if (filter.status) {
      sql += ' AND status = ?';
      params.push(filter.status);
    }
    return (await this.rows(`${sql} ORDER BY created_at DESC, id LIMIT 500`, params)).map(this.decode.request);
  }
  countPendingOutgoing(agent_id: string) {
    return this.count("SELECT COUNT(*) AS n FROM contact_requests WHERE from_id = ? AND status = 'pending'", [agent_id]);
  }

  async message(id: string) {
    const row = await this.one('SELECT * FROM messages WHERE id = ?', [id]);
    return row && this.decode.message(row);
  }
  async messageByClientId(sender_id: string, client_id: string) {
    const row = await this.one('SELECT * FROM messages WHERE sender_id = ? AND client_id = ?', [sender_id, client_id]);
    return row && this.decode.message(row);
  }
  async inbox(recipient_id: string, o: InboxOptions) {
    const unread = o.unreadOnly ? ' AND read_at IS NULL' : '';
    const cursor = o.cursorSeq === undefined ? '' : o.order === 'asc' ? ' AND seq > ?' : ' AND seq < ?';
    const sql = `SELECT * FROM messages WHERE recipient_id = ?${unread}${cursor} ORDER BY seq ${o.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`;
    const params = o.cursorSeq === undefined ? [recipient_id, o.limit] : [recipient_id, o.cursorSeq, o.limit];
    return (await this.rows(sql, params)).map(this.decode.message);
  }
  unreadCount(recipient_id: string) {
    return this.count('SELECT COUNT(*) AS n FROM messages WHERE recipient_id = ? AND read_at IS NULL', [recipient_id]);
  }
  async outbox(sender_id: string, o: { cursorSeq?: number; limit: number }) {
    const rows =
      o.cursorSeq === undefined
        ? await this.rows('SELECT * FROM messages WHERE sender_id = ? ORDER BY seq DESC LIMIT ?', [sender_id, o.limit])
        : await this.rows('SELECT * FROM messages WHERE sender_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?', [
            sender_id,
            o.cursorSeq,
            o.limit,
          ]);
    return rows.map(this.decode.message);
  }
  async thread(thread_id: string) {
    return (await this.rows('SELECT * FROM messages WHERE thread_id = ? ORDER BY seq ASC LIMIT 1000', [thread_id])).map(
      this.decode.message,
    );
  }
  async conversations(agent_id: string): Promise<ConversationRow[]> {
    const rows = await this.rows(
      `SELECT peer_id, MAX(seq) AS last_seq, SUM(unread) AS unread_count, COUNT(*) AS message_count FROM (
         SELECT recipient_id AS peer_id, seq, 0 AS unread FROM messages WHERE sender_id = ?
         UNION ALL
         SELECT sender_id AS peer_id, seq, CASE WHEN read_at IS NULL THEN 1 ELSE 0 END FROM messages WHERE recipient_id = ?
       ) mine GROUP BY peer_id ORDER BY last_seq DESC LIMIT 500`,
      [agent_id, agent_id],
    );
    return rows.map((r) => ({ ...(r as unknown as ConversationRow), unread_count: Number(r.unread_count) }));
  }
  async conversation(agent_id: string, peer_id: string, o: { cursorSeq?: number; limit: number }) {
    // Two index ranges (outbox and inbox), merged: no OR across indexes.
    const before = o.cursorSeq ?? Number.MAX_SAFE_INTEGER;
    const rows = await this.rows(
      `SELECT * FROM (SELECT * FROM messages WHERE sender_id = ? AND recipient_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?) sent
       UNION ALL SELECT * FROM (SELECT * FROM messages WHERE sender_id = ? AND recipient_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?) received
       ORDER BY seq DESC LIMIT ?`,
      [agent_id, peer_id, before, o.limit, peer_id, agent_id, before, o.limit, o.limit],
    );
    return rows.map(this.decode.message);
  }
  async messagesBySeq(seqs: number[]) {
    if (seqs.length === 0) return [];
    return (await this.rows(`SELECT * FROM messages WHERE ${this.sql.inList('seq', 'bigint')}`, [this.sql.list(seqs)])).map(
      this.decode.message,
    );
  }

  async settledDeadlines(sender_id: string, since: string) {
    const sql =
      "SELECT * FROM messages WHERE sender_id = ? AND deadline_state IN ('missed', 'declined') AND deadline_at >= ? ORDER BY deadline_at DESC LIMIT 200";
    return (await this.rows(sql, [sender_id, since])).map(this.decode.message);
  }

  async capabilities(agent_id: string) {
    const row = await this.one('SELECT * FROM capabilities WHERE agent_id = ?', [agent_id]);
    return row && this.decode.capabilities(row);
  }

  async events(agent_id: string, o: { afterSeq: number; limit: number }) {
    return (
      await this.rows('SELECT * FROM events WHERE agent_id = ? AND seq > ? ORDER BY seq LIMIT ?', [agent_id, o.afterSeq, o.limit])
    ).map(this.decode.event);
  }
  async lastEventSeq(agent_id: string) {
    return ((await this.one('SELECT MAX(seq) AS seq FROM events WHERE agent_id = ?', [agent_id]))?.seq as number | null) ?? 0;
  }
  async webhook(agent_id: string) {
    const row = await this.one('SELECT * FROM webhooks WHERE agent_id = ?', [agent_id]);
    return row && this.decode.webhook(row);
  }
  async deliveries(agent_id: string, o: { status?: DeliveryRecord['status']; limit: number }) {
    const status = o.status ? ' AND status = ?' : '';
    const sql = `SELECT ${DELIVERY_COLUMNS} FROM outbox WHERE agent_id = ? AND kind = 'webhook'${status} ORDER BY position DESC LIMIT ?`;
    return (await this.rows(sql, o.status ? [agent_id, o.status, o.limit] : [agent_id, o.limit])) as unknown as DeliveryRecord[];
  }
  pendingDeliveries(agent_id: string) {
    return this.count("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'webhook' AND queue = ? AND status = 'pending'", [agent_id]);
  }
  async webhookDeliveredAfter(agent_id: string, event_seq: number) {
    const sql =
      "SELECT 1 AS yes FROM outbox WHERE agent_id = ? AND position > ? AND kind = 'webhook' AND status = 'delivered' ORDER BY position LIMIT 1";
    return (await this.one(sql, [agent_id, event_seq])) !== null;
  }
  /**
   * Counts come from the partial and status indexes. Pending and oldest count webhook deliveries only:
   * a deadline or a held-mail release waiting for its time (issue 18) is not a backlog; due and dead
   * count every kind.
   */
  async deliveryStats(now: string): Promise<DeliveryStats> {
    const row = await this.one(
      `SELECT
        (SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND kind = 'webhook') AS pending,
        (SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND not_before <= ? AND (lease_until IS NULL OR lease_until < ?)) AS due,
        (SELECT COUNT(*) FROM outbox WHERE status = 'dead') AS dead,
        (SELECT MIN(created_at) FROM outbox WHERE status = 'pending' AND kind = 'webhook') AS oldest_pending_at`,
      [now, now],
    );
    return row as unknown as DeliveryStats;
  }

  async audit(agent_id: string, o: { afterSeq?: number; limit: number }) {
    return (
      await this.rows('SELECT * FROM audit_log WHERE agent_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?', [
        agent_id,
        o.afterSeq ?? 0,
        o.limit,
      ])
    ).map(this.decode.audit);
  }
  async auditAll(agent_id: string): Promise<AuditRecord[]> {
    return (await this.rows('SELECT * FROM audit_log WHERE agent_id = ? ORDER BY seq ASC', [agent_id])).map(this.decode.audit);
  }

  async listAgents(o: { offset: number; limit: number }) {
    return (await this.rows('SELECT * FROM agents ORDER BY created_at, id LIMIT ? OFFSET ?', [o.limit, o.offset])).map(this.decode.agent);
  }
  async invites() {
    return (await this.rows('SELECT * FROM invites ORDER BY created_at DESC, token_hash', [])) as unknown as InviteRecord[];
  }
  async serverAuditAll() {
    return (await this.rows('SELECT * FROM server_audit ORDER BY seq ASC', [])).map(this.decode.serverAudit);
  }

  async a2aPeerByUrl(card_url: string) {
    return (await this.one('SELECT agent_id, card_url, created_at FROM a2a_peers WHERE card_url = ?', [card_url])) as A2APeerRecord | null;
  }
  async a2aPeer(agent_id: string) {
    return (await this.one('SELECT agent_id, card_url, created_at FROM a2a_peers WHERE agent_id = ?', [agent_id])) as A2APeerRecord | null;
  }
  async a2aCanceled(message_id: string) {
    return (await this.one('SELECT * FROM a2a_canceled WHERE message_id = ?', [message_id])) as A2ACanceledRecord | null;
  }
  // guard rails (issue 19)
  async grantLimits(granter_id: string, grantee_id: string) {
    return (
      await this.rows('SELECT * FROM grant_limits WHERE granter_id = ? AND grantee_id = ? ORDER BY scope', [granter_id, grantee_id])
    ).map(grantLimit);
  }
  async grantLimitsInvolving(agent_id: string) {
    return (await this.rows('SELECT * FROM grant_limits WHERE granter_id = ? OR grantee_id = ? ORDER BY scope', [agent_id, agent_id])).map(
      grantLimit,
    );
  }
  async guardSettings(agent_id: string): Promise<GuardSettingsRecord | null> {
    const row = await this.one('SELECT * FROM guard_settings WHERE agent_id = ?', [agent_id]);
    return (
      row && {
        ...(row as unknown as GuardSettingsRecord),
        leak_guard: Number(row.leak_guard) === 1,
        per_hour: nullableNumber(row.per_hour),
        per_day: nullableNumber(row.per_day),
      }
    );
  }
  async pairBudget(recipient_id: string, sender_id: string) {
    const row = await this.one('SELECT * FROM pair_budgets WHERE recipient_id = ? AND sender_id = ?', [recipient_id, sender_id]);
    return row && pairBudget(row);
  }
  async pairBudgets(recipient_id: string) {
    return (await this.rows('SELECT * FROM pair_budgets WHERE recipient_id = ?', [recipient_id])).map(pairBudget);
  }
  budgetCount(recipient_id: string, sender_id: string, period: BudgetPeriod, window_start: string) {
    return this.count(
      'SELECT COALESCE(MAX(count), 0) AS n FROM budget_counters WHERE recipient_id = ? AND sender_id = ? AND period = ? AND window_start = ?',
      [recipient_id, sender_id, period, window_start],
    );
  }
  async sendGuard(sender_id: string, recipient_id: string, scope: string): Promise<SendGuardState> {
    const limit = 'FROM grant_limits WHERE granter_id = ? AND grantee_id = ? AND scope = ?';
    const pair = 'FROM pair_budgets WHERE recipient_id = ? AND sender_id = ?';
    const row = (await this.one(
      `SELECT
         (SELECT COUNT(*) ${limit}) AS limited, (SELECT expires_at ${limit}) AS expires_at, (SELECT remaining ${limit}) AS remaining,
         (SELECT COUNT(*) ${pair}) AS paired, (SELECT per_hour ${pair}) AS pair_per_hour, (SELECT per_day ${pair}) AS pair_per_day,
         (SELECT per_hour FROM guard_settings WHERE agent_id = ?) AS default_per_hour,
         (SELECT per_day FROM guard_settings WHERE agent_id = ?) AS default_per_day,
         (SELECT leak_guard FROM guard_settings WHERE agent_id = ?) AS leak_guard`,
      [...repeat(3, [recipient_id, sender_id, scope]), ...repeat(3, [recipient_id, sender_id]), recipient_id, recipient_id, sender_id],
    ))!;
    return {
      limit: Number(row.limited)
        ? {
            granter_id: recipient_id,
            grantee_id: sender_id,
            scope,
            expires_at: row.expires_at as string | null,
            remaining: nullableNumber(row.remaining),
          }
        : null,
      pair: Number(row.paired) ? { per_hour: nullableNumber(row.pair_per_hour), per_day: nullableNumber(row.pair_per_day) } : null,
      recipient_default: { per_hour: nullableNumber(row.default_per_hour), per_day: nullableNumber(row.default_per_day) },
      sender_leak_guard: Number(row.leak_guard) === 1,
    };
  }
  async threadGuard(thread_id: string, since: string) {
    const row = (await this.one(
      `SELECT l.*, (SELECT COUNT(*) FROM messages m WHERE m.thread_id = ? AND m.created_at >= ? AND m.created_at > COALESCE(l.cleared_at, '')
         AND m.seq > COALESCE((SELECT MAX(h.seq) FROM messages h WHERE h.thread_id = ? AND h.origin = 'human'), 0)) AS run
       FROM (SELECT 1 AS one) AS one LEFT JOIN thread_loops l ON l.thread_id = ?`,
      [thread_id, since, thread_id, thread_id],
    ))!;
    const { run, ...loop } = row;
    return { loop: loop.thread_id ? loopRow(loop) : null, run: Number(run) };
  }
  async loop(thread_id: string) {
    const row = await this.one('SELECT * FROM thread_loops WHERE thread_id = ?', [thread_id]);
    return row && loopRow(row);
  }
  async loopsInvolving(agent_id: string) {
    return (
      await this.rows('SELECT * FROM thread_loops WHERE (agent_a = ? OR agent_b = ?) AND cleared_at IS NULL ORDER BY flagged_at', [
        agent_id,
        agent_id,
      ])
    ).map(loopRow);
  }
  async held(id: string) {
    const row = await this.one('SELECT * FROM held_messages WHERE id = ?', [id]);
    return row && heldRow(row);
  }
  async heldBy(sender_id: string) {
    return (await this.rows('SELECT * FROM held_messages WHERE sender_id = ? ORDER BY created_at, id', [sender_id])).map(heldRow);
  }
}

const repeat = (n: number, values: unknown[]) => Array.from({ length: n }, () => values).flat();
const nullableNumber = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const grantLimit = (r: Row): GrantLimitRecord => ({ ...(r as unknown as GrantLimitRecord), remaining: nullableNumber(r.remaining) });
const pairBudget = (r: Row): PairBudgetRecord => ({
  ...(r as unknown as PairBudgetRecord),
  per_hour: nullableNumber(r.per_hour),
  per_day: nullableNumber(r.per_day),
});
const loopRow = (r: Row): LoopRecord => ({ ...(r as unknown as LoopRecord), messages: Number(r.messages) });
const heldRow = (r: Row): HeldRecord => ({
  ...(r as unknown as HeldRecord),
  input: JSON.parse(r.input as string) as HeldRecord['input'],
  reasons: JSON.parse(r.reasons as string) as string[],
});
