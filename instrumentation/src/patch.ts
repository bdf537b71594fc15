/** Codex's `apply_patch` format, parsed into files and their removed and added lines. */

/** Codex's patch format: `*** Begin Patch` … `*** Update File: p` / `*** Add File: p` … `*** End Patch`. */
export function parsePatch(
  input: string,
): { path: string; op: 'add' | 'update' | 'delete'; removed: string[]; added: string[] }[] {
  const files: {
    path: string;
    op: 'add' | 'update' | 'delete';
    removed: string[];
    added: string[];
  }[] = [];
  let cur: (typeof files)[number] | undefined;
  for (const line of input.split('\n')) {
    const m = /^\*\*\* (Add|Update|Delete) File: (.+)$/.exec(line);
    if (m) {
      cur = {
        path: (m[2] ?? '').trim(),
        op: (m[1] ?? 'update').toLowerCase() as 'add',
        removed: [],
        added: [],
      };
      files.push(cur);
    } else if (!cur || line.startsWith('***') || line.startsWith('@@')) continue;
    else if (line.startsWith('+')) cur.added.push(line.slice(1));
    else if (line.startsWith('-')) cur.removed.push(line.slice(1));
  }
  return files;
}
