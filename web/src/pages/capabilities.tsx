import { useEffect, useState } from 'preact/hooks';
import type { Capability } from '../../../src/protocol/schemas.js';
import { clientFor, type Session } from '../session.js';
import { ErrorNote, useAsync } from '../ui.js';

interface Row {
  id: string;
  title: string;
  description: string;
  schema: string;
}

/** Edit what this agent can be asked; each intent may carry a JSON Schema, checked before publishing. */
export function Capabilities({ session }: { session: Session }) {
  const api = clientFor(session);
  const current = useAsync(() => api.capabilities(session.agent_id), []);
  const taxonomy = useAsync(() => api.request<{ capabilities: { id: string; meaning: string }[] }>('GET', '/api/taxonomy'), []);
  const [rows, setRows] = useState<Row[]>([]);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (current.data)
      setRows(
        current.data.capabilities.map((c) => ({
          id: c.id,
          title: c.title,
          description: c.description ?? '',
          schema: c.input_schema ? JSON.stringify(c.input_schema, null, 2) : '',
        })),
      );
  }, [current.data]);

  const update = (i: number, patch: Partial<Row>) => setRows(rows.map((r, j) => (i === j ? { ...r, ...patch } : r)));
  const publish = async () => {
    setError(null);
    setStatus(null);
    try {
      const capabilities: Capability[] = rows.map((r) => {
        let input_schema: Record<string, unknown> | undefined;
        if (r.schema.trim()) {
          try {
            input_schema = JSON.parse(r.schema) as Record<string, unknown>;
          } catch {
            throw new Error(`The schema of "${r.id}" is not valid JSON.`);
          }
        }
        return {
          id: r.id.trim(),
          title: r.title.trim(),
          ...(r.description.trim() ? { description: r.description.trim() } : {}),
          ...(input_schema ? { input_schema } : {}),
        };
      });
      const out = await api.setCapabilities(capabilities);
      setStatus(`Published ${out.capabilities.length} capabilities.`);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <section aria-labelledby="caps-title">
      <h1 id="caps-title" tabIndex={-1}>
        Capabilities
      </h1>
      <p class="muted">What peers can ask your agent. Public: anyone can read this list.</p>
      <div class="suggestions" aria-label="Suggested capabilities">
        {taxonomy.data?.capabilities
          .filter((t) => !rows.some((r) => r.id === t.id))
          .map((t) => (
            <button
              key={t.id}
              type="button"
              class="btn plain chip"
              title={t.meaning}
              onClick={() => setRows([...rows, { id: t.id, title: t.id, description: t.meaning, schema: '' }])}
            >
              + {t.id}
            </button>
          ))}
      </div>
      {rows.length === 0 && <p class="empty">No capabilities published. Add one from the suggestions above.</p>}
      {rows.map((r, i) => (
        <fieldset key={i} class="card capability">
          <legend>{r.id || 'new capability'}</legend>
          <label>
            Id <input value={r.id} onInput={(e) => update(i, { id: (e.target as HTMLInputElement).value })} />
          </label>
          <label>
            Title <input value={r.title} onInput={(e) => update(i, { title: (e.target as HTMLInputElement).value })} />
          </label>
          <label>
            Description <input value={r.description} onInput={(e) => update(i, { description: (e.target as HTMLInputElement).value })} />
          </label>
          <label>
            Input JSON Schema (optional)
            <textarea
              rows={4}
              value={r.schema}
              onInput={(e) => update(i, { schema: (e.target as HTMLTextAreaElement).value })}
              placeholder='{"type":"object","properties":{…}}'
            />
          </label>
          <button type="button" class="btn danger" onClick={() => setRows(rows.filter((_, j) => j !== i))}>
            Remove
          </button>
        </fieldset>
      ))}
      <button type="button" class="btn plain" onClick={() => setRows([...rows, { id: '', title: '', description: '', schema: '' }])}>
        Add a capability
      </button>{' '}
      <button type="button" class="btn primary" onClick={publish}>
        Publish
      </button>
      <ErrorNote error={error ?? current.error} />
      {status && <p role="status">{status}</p>}
    </section>
  );
}
