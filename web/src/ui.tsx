/** Small shared pieces: async state, buttons that show progress, notices. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { errorText } from './session.js';

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

export function ActionButton(props: { onClick: () => Promise<unknown>; children: ComponentChildren; kind?: 'primary' | 'danger' | 'plain'; confirm?: string; label?: string }) {
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
      {error && <span role="alert" class="error-inline">{error}</span>}
    </span>
  );
}

export const ErrorNote = ({ error }: { error: string | null }) => (error ? <p role="alert" class="error">{error}</p> : null);

export const Empty = ({ children }: { children: ComponentChildren }) => <div class="empty">{children}</div>;

export function Copyable({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="copyable">
      <code aria-label={label} data-testid="secret">{value}</code>
      <button type="button" class="btn plain" onClick={() => navigator.clipboard?.writeText(value).then(() => setCopied(true), () => undefined)}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}
