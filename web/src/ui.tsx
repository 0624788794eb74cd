/** Small shared pieces: async state, buttons that show progress, notices, names shown safely. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { errorText } from './session.js';

/** Loads on mount and whenever deps change; keeps the previous data while reloading (no flicker). */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (d) => live && (setData(d), setError(null)),
      (e) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data, error, reload: useCallback(() => setTick((t) => t + 1), []) };
}

export function ActionButton(props: {
  onClick: () => Promise<unknown>;
  children: ComponentChildren;
  kind?: 'primary' | 'danger' | 'plain';
  confirm?: string;
  label?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    if (props.confirm && !window.confirm(props.confirm)) return;
    setBusy(true);
    setError(null);
    try {
      await props.onClick();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button type="button" class={`btn ${props.kind ?? 'plain'}`} disabled={busy} onClick={run} aria-label={props.label}>
        {busy ? '…' : props.children}
      </button>
      {error && (
        <span role="alert" class="error-inline">
          {error}
        </span>
      )}
    </span>
  );
}

export const ErrorNote = ({ error, id }: { error: string | null; id?: string }) =>
  error ? (
    <p role="alert" class="error" id={id}>
      {error}
    </p>
  ) : null;

export const Empty = ({ children }: { children: ComponentChildren }) => <div class="empty">{children}</div>;

export function Copyable({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="copyable">
      <code aria-label={label} data-testid="secret">
        {value}
      </code>
      <button
        type="button"
        class="btn plain"
        onClick={() =>
          navigator.clipboard?.writeText(value).then(
            () => setCopied(true),
            () => undefined,
          )
        }
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

/** Control, zero-width and bidirectional-override characters: legitimate names never need them. */
const SUSPICIOUS = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;
export const isSuspicious = (text: string | null | undefined) => Boolean(text && SUSPICIOUS.test(text));

/**
 * A peer's display name and handle, each isolated (<bdi>) so right-to-left overrides cannot flip what
 * is around them; names with control or bidi characters are flagged.
 */
export function PeerName({ display, handle, strong }: { display?: string | null; handle: string; strong?: boolean }) {
  const shown = display && display !== handle ? display : null;
  const flagged = isSuspicious(display) || isSuspicious(handle);
  const Main = strong ? 'strong' : 'span';
  return (
    <span class="peer-name">
      <Main class="name">
        <bdi>{shown ?? handle}</bdi>
      </Main>
      {shown && (
        <span class="handle muted">
          @<bdi>{handle}</bdi>
        </span>
      )}
      {handle.includes('@') && (
        <span class="badge" title="An agent on another server: its address is handle@domain">
          remote
        </span>
      )}
      {flagged && (
        <span
          class="badge warn-badge"
          title="This name contains invisible control or text-direction characters: it may not be what it looks like."
        >
          ⚠ hidden characters
        </span>
      )}
    </span>
  );
}

/** Short local date and time. */
export const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
