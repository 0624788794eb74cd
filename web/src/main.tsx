import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Capabilities } from './pages/capabilities.js';
import { Inbox } from './pages/inbox.js';
import { Network } from './pages/network.js';
import { Settings } from './pages/settings.js';
import { Welcome } from './pages/welcome.js';
import { loadSession, signOut, type Session } from './session.js';
import './styles.css';

const PAGES = { network: 'Network', inbox: 'Inbox', capabilities: 'Capabilities', settings: 'Settings' } as const;
type Page = keyof typeof PAGES;

const pageFromHash = (): Page => {
  const p = location.hash.replace(/^#\/?/, '') as Page;
  return p in PAGES ? p : 'network';
};

function App() {
  const [session, setSession] = useState<Session | null>(loadSession());
  const [page, setPage] = useState<Page>(pageFromHash());
  useEffect(() => {
    const onHash = () => setPage(pageFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  if (!session) return <Welcome onSession={(s) => (setSession(s), (location.hash = '#/network'))} />;
  return (
    <>
      <header class="top">
        <a class="brand" href="#/network">
          agent2agent
        </a>
        <nav aria-label="Main">
          {(Object.keys(PAGES) as Page[]).map((p) => (
            <a key={p} href={`#/${p}`} aria-current={page === p ? 'page' : undefined}>
              {PAGES[p]}
            </a>
          ))}
        </nav>
        <span class="who">{session.name}</span>
        <button
          type="button"
          class="btn plain"
          onClick={() => {
            signOut();
            setSession(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main class="content">
        {page === 'network' && <Network session={session} />}
        {page === 'inbox' && <Inbox session={session} />}
        {page === 'capabilities' && <Capabilities session={session} />}
        {page === 'settings' && <Settings session={session} onChange={setSession} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
