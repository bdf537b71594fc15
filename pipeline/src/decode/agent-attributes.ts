import allowList from './agent-attributes.json' with { type: 'json' };

const KEYS: ReadonlySet<string> = new Set(allowList.keys);

/** Whether an agent log attribute is stored (agent-attributes.json); unknown ones are dropped. */
export function isKeptAgentAttribute(key: string): boolean {
  return KEYS.has(key) || allowList.prefixes.some((p) => key.startsWith(p));
}
