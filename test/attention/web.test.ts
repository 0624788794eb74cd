/**
 * The web UI shows the attention features (issue 18): the digest's "needs your attention" panel with
 * a sealed message's snippet opened in the browser, a message's reply-by deadline, a quiet-hours hold,
 * and a processed outcome with its receipt verified by the sender's browser.
 */
import { after, before, describe, test } from 'node:test';
import { connectAgents, harness, missing, type Harness } from '../web/browser.js';

describe('web UI: deadlines, holds and processed outcomes', { skip: missing }, () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h?.close());

  test('the recipient sees the attention panel and the deadline; the sender sees the hold and the verified outcome', async () => {
    const [a, b] = [await h.agent('webatt-a'), await h.agent('webatt-b')];
    await connectAgents(a, b);
    const now = Date.now();
    const sent = await a.mailbox.send({
      recipient_id: b.session.agent_id,
      body: 'sealed: the figures, please',
      scope: 'message',
      reply_by: new Date(now + 3_600_000).toISOString(),
    });

    const bob = await h.open();
    await h.signIn(bob, b, '#/inbox');
    const panel = bob.getByTestId('attention');
    await panel.getByText('webatt-a').waitFor();
    await panel.getByText('sealed: the figures, please').waitFor(); // opened in the browser: the server sees only metadata
    await bob.goto(`${h.t.url}/#/inbox/webatt-a`);
    await bob.getByTestId('message').filter({ hasText: 'sealed: the figures' }).getByTestId('deadline').getByText('Reply by').waitFor();

    await b.mailbox.ack(sent.id, { outcome: 'done', note: 'sent them' });
    const hour = new Date(now).getUTCHours();
    const hh = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
    await b.api.put('/api/me/quiet-hours', { time_zone: 'UTC', start: hh(hour - 1), end: hh(hour + 2) });
    await a.mailbox.send({ recipient_id: b.session.agent_id, body: 'one more thing', scope: 'message' });

    const alice = await h.open();
    await h.signIn(alice, a, '#/inbox/webatt-b');
    const done = alice.getByTestId('message').filter({ hasText: 'sealed: the figures' });
    await done.getByTestId('processed').getByText('Processed: done').waitFor();
    await done.getByText('receipt verified').waitFor();
    await alice
      .getByTestId('message')
      .filter({ hasText: 'one more thing' })
      .getByTestId('held')
      .getByText('Held by quiet hours until')
      .waitFor();
  });
});
