/**
 * The leak guard's scanner (SPEC §17.4): secretlint's recommended preset, a maintained ruleset of
 * secret patterns (cloud and SaaS API keys, private keys, tokens, passwords in connection strings and
 * URLs), run in-process. The server runs it on unsealed content; the CLI's `amtp mcp` proxy and Node
 * SDK users pass it to SecureMailbox, which runs it on the plaintext before sealing. The web bundle
 * does not include it.
 */

type LintSource = typeof import('@secretlint/core').lintSource;
/** Loaded on first use, so CLI commands and servers that never scan do not pay for the ruleset. */
let secretlint: Promise<{ lintSource: LintSource; config: Parameters<LintSource>[0]['options']['config'] }> | undefined;
const loadSecretlint = () =>
  (secretlint ??= Promise.all([import('@secretlint/core'), import('@secretlint/secretlint-rule-preset-recommend')]).then(
    ([core, preset]) => ({
      lintSource: core.lintSource,
      config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: preset.creator }] },
    }),
  ));

/** What a scanner reports: one line per finding, naming the rule and never the secret itself. */
export type LeakScanner = (text: string) => Promise<string[]>;

export const scanForSecrets: LeakScanner = async (text) => {
  if (!text) return [];
  const { lintSource, config } = await loadSecretlint();
  const result = await lintSource({ source: { filePath: '/message.txt', content: text, contentType: 'text' }, options: { config } });
  const rules = result.messages.map((m) => `${m.ruleId.replace('@secretlint/secretlint-rule-', '')}: ${m.messageId}`);
  return [...new Set(rules)];
};

/** The parts of a message a person or a model wrote, as one text to scan. */
export function messageText(m: { subject?: string | null; body?: string | null; payload?: unknown }): string {
  return [m.subject ?? '', m.body ?? '', m.payload === undefined || m.payload === null ? '' : JSON.stringify(m.payload)].join('\n');
}
