import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { refreshAll, useLive, useLiveStream } from './live.js';
import { Capabilities } from './pages/capabilities.js';
import { Inbox } from './pages/inbox.js';
import { Network } from './pages/network.js';
import { Settings } from './pages/settings.js';
import { Welcome } from './pages/welcome.js';
import { keyStorage, protectKeys } from './keystore.js';
import { clientFor, keysOnlyHere, loadSession, saveSession, SESSION_KEY, signOut, type Session } from './session.js';
import { useAsync } from './ui.js';
import './styles.css';

const PAGES = { network: 'Network', inbox: 'Inbox', capabilities: 'Capabilities', settings: 'Settings' } as const;
type Page = keyof typeof PAGES;

/** `#/inbox/<peer>` → page and its argument. */
const route = (): { page: Page; arg: string | null } => {
  const [p, arg] = location.hash.replace(/^#\/?/, '').split('/') as [Page, string?];
  return { page: p in PAGES ? p : 'network', arg: arg ? decodeURIComponent(arg) : null };
};

function App() {
  const [session, setSession] = useState<Session | null>(loadSession());
  const [where, setWhere] = useState(route());
  const main = useRef<HTMLElement>(null);
  useLiveStream(session);

  useEffect(() => {
    const onHash = () => setWhere(route());
    // Sign-in and sign-out in another tab reach this one.
    const onStorage = (e: StorageEvent) => (e.key === SESSION_KEY || e.key === null) && setSession(loadSession());
    window.addEventListener('hashchange', onHash);
    window.addEventListener('storage', onStorage);
    return () => {
      window.removeEventListener('hashchange', onHash);
      window.removeEventListener('storage', onStorage);
    };
  }, []);

  // Backed-up keys still held raw (a session from before this browser kept keys out of reach) move there now.
  // Pages wait for it, so no view works (and fetches profiles) with keys that are about to be replaced.
  const [securing, setSecuring] = useState(() => Boolean(session && keyStorage(session) === 'local' && session.backed_up_at));
  useEffect(() => {
    if (!session || keyStorage(session) !== 'local' || !session.backed_up_at) return setSecuring(false);
    let live = true;
    void protectKeys(session)
      .then((next) => {
        if (!live || next === session) return;
        const moved = { ...(loadSession() ?? next), signing: next.signing, encryption: next.encryption };
        saveSession(moved);
        setSession(moved);
      })
      .catch((error: unknown) => console.warn('could not move the keys out of reach', error))
      .finally(() => live && setSecuring(false));
    return () => {
      live = false;
    };
  }, [session]);

  // A page change moves focus to the new page's heading, so screen readers and keyboards follow.
  const page = where.page;
  const firstPage = useRef(true);
  useEffect(() => {
    if (firstPage.current) return void (firstPage.current = false);
    if (session) main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [page]);

  if (!session) {
    document.title = 'Sign in · agent2agent';
    return <Welcome onSession={(s) => (setSession(s), (location.hash = '#/network'))} />;
  }
  const leave = () => {
    const warning = keysOnlyHere(session)
      ? 'Your private keys exist ONLY in this browser and you have not saved a backup. Signing out erases them: you will not be able to read sealed messages or sign as this agent again. Sign out anyway?'
      : 'Sign out? This browser forgets your keys and drafts.';
    if (!window.confirm(warning)) return;
    signOut();
    setSession(null);
  };
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), main.current?.querySelector<HTMLElement>('h1')?.focus())}>
        Skip to content
      </a>
      <Header session={session} page={page} onSignOut={leave} />
      <main class="content" id="main" ref={main}>
        {securing && <p class="muted">Securing your keys in this browser…</p>}
        {!securing && page === 'network' && <Network session={session} />}
        {!securing && page === 'inbox' && <Inbox session={session} peerRef={where.arg} />}
        {!securing && page === 'capabilities' && <Capabilities session={session} />}
        {!securing && page === 'settings' && <Settings session={session} onChange={setSession} onSignOut={leave} />}
      </main>
    </>
  );
}

/** Brand, navigation with live badges (unread, requests waiting), who is signed in. */
function Header({ session, page, onSignOut }: { session: Session; page: Page; onSignOut: () => void }) {
  const live = useLive();
  const api = clientFor(session);
  const counts = useAsync(async () => {
    const [me, requests] = await Promise.all([api.whoami(), api.listRequests({ direction: 'incoming', status: 'pending' })]);
    return { unread: me.unread_count, requests: requests.length };
  }, [live, page]);
  const unread = counts.data?.unread ?? 0;
  const requests = counts.data?.requests ?? 0;
  document.title = `${unread ? `(${unread}) ` : ''}${PAGES[page]} · agent2agent`;
  const badge: Partial<Record<Page, { n: number; label: string }>> = {
    inbox: { n: unread, label: 'unread' },
    network: { n: requests, label: 'waiting for you' },
  };
  return (
    <header class="top">
      <a class="brand" href="#/network" aria-label="a2a home">
        a2a
      </a>
      <nav aria-label="Main">
        {(Object.keys(PAGES) as Page[]).map((p) => (
          <a key={p} href={`#/${p}`} aria-current={page === p ? 'page' : undefined} onClick={() => refreshAll()}>
            {PAGES[p]}
            {badge[p] && badge[p].n > 0 && (
              <span class="count" data-testid={`nav-${p}-count`} aria-label={`${badge[p].n} ${badge[p].label}`}>
                {badge[p].n > 99 ? '99+' : badge[p].n}
              </span>
            )}
          </a>
        ))}
      </nav>
      <span class="who" title={session.name}>
        <bdi>{session.name}</bdi>
      </span>
      <button type="button" class="btn plain small signout" onClick={onSignOut}>
        Sign out
      </button>
    </header>
  );
}

render(<App />, document.getElementById('app')!);
