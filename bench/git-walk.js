// Benchmark: the line walk of `import git` (first-parent diffs of the default branch, the PR graph,
// git blame for PRs that mix agent and human commits) on a generated repository, beside `git log`
// alone on the same repository, in the same run.
// The repository is generated with `git fast-import` (seconds, not hours): HM_BENCH_GIT_COMMITS
// commits (default 100,000) over 200 files of ~60 lines, 10 minutes apart (about two years). Each
// step edits one file (rewrites 2 lines, deletes 1, adds 3). Every 10th step is a PR (a branch
// commit and GitHub's merge commit), half of them with an Agent-Session trailer; every 100th step
// is a PR of two commits, agent then human, which the walk splits with git blame
// (HM_BENCH_GIT_MIXED=N: every Nth step instead; 0: none).
// Run: npm run bench (HM_BENCH=git for this one only).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { walkGitLines } from '../pipeline/dist/github/index.js';

const COMMITS = Number(process.env.HM_BENCH_GIT_COMMITS ?? 100_000);
const FILES = 200;
const START = Date.UTC(2024, 0, 1) / 1000;
const STEP_S = 600;
/** Every MIXED-th step is a PR of an agent and a human commit (split by git blame); 0: none. */
const MIXED = Number(process.env.HM_BENCH_GIT_MIXED ?? 100);

const dir = mkdtempSync(join(os.tmpdir(), 'hm-bench-git-'));
execFileSync('git', ['init', '-q', '-b', 'main', dir]);

async function generate() {
  const fi = spawn('git', ['-C', dir, 'fast-import', '--quiet'], {
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  const done = new Promise((resolve, reject) =>
    fi.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`fast-import: ${code}`)))),
  );
  let buf = [];
  let size = 0;
  const write = async (s) => {
    buf.push(s);
    size += s.length;
    if (size > 1 << 20) {
      const ok = fi.stdin.write(buf.join(''));
      buf = [];
      size = 0;
      if (!ok) await new Promise((r) => fi.stdin.once('drain', r));
    }
  };
  const files = Array.from({ length: FILES }, (_, f) =>
    Array.from({ length: 60 }, (_, i) => `f${f} line ${i} ${'x'.repeat(i % 30)}`),
  );
  let mark = 0;
  let counter = 0;
  const edit = (f) => {
    const lines = files[f];
    const at = (counter * 7) % Math.max(1, lines.length - 3);
    counter += 1;
    lines.splice(at, 2, `rewritten ${counter}a`, `rewritten ${counter}b`); // 2 rewritten
    lines.splice(at + 2, 1); // 1 removed (a hunk of its own only if not adjacent; fine either way)
    const tail = (counter * 13) % lines.length;
    lines.splice(tail, 0, `added ${counter} 1`, `added ${counter} 2`, `added ${counter} 3`);
    if (lines.length > 120) lines.splice(0, 40);
    const data = `${lines.join('\n')}\n`;
    return `M 100644 inline src/f${f}.ts\ndata ${Buffer.byteLength(data)}\n${data}\n`;
  };
  const commit = async (ref, at, who, message, from, merge, change) => {
    mark += 1;
    const msg = message;
    await write(
      `commit ${ref}\nmark :${mark}\ncommitter ${who} <${who.toLowerCase().replace(/\W/g, '')}@acme.dev> ${at} +0000\n` +
        `data ${Buffer.byteLength(msg)}\n${msg}\n` +
        (from ? `from :${from}\n` : '') +
        (merge ? `merge :${merge}\n` : '') +
        change,
    );
    return mark;
  };
  let head = 0;
  let pr = 0;
  let made = 0;
  for (let step = 0; made < COMMITS; step += 1) {
    const at = START + step * STEP_S;
    const f = step % FILES;
    if (step % 10 === 9) {
      pr += 1;
      const agent = pr % 2 === 0;
      const mixed = MIXED > 0 && step % MIXED === MIXED - 1;
      const c1 = await commit(
        `refs/heads/pr${pr % 50}`,
        at - 120,
        agent || mixed ? 'Agent Bot' : 'Hana',
        `work ${pr}${agent || mixed ? `\n\nAgent-Session: s-${pr}` : ''}\n`,
        head,
        0,
        edit(f),
      );
      let tip = c1;
      made += 1;
      if (mixed) {
        tip = await commit(
          `refs/heads/pr${pr % 50}`,
          at - 60,
          'Hana',
          `review ${pr}\n`,
          c1,
          0,
          edit(f),
        );
        made += 1;
      }
      // The merge's tree is the PR's (main did not move): repeat the file as the PR left it.
      const data = `${files[f].join('\n')}\n`;
      head = await commit(
        'refs/heads/main',
        at,
        'Hana',
        `Merge pull request #${pr} from acme/pr${pr}\n`,
        head,
        tip,
        `M 100644 inline src/f${f}.ts\ndata ${Buffer.byteLength(data)}\n${data}\n`,
      );
      made += 1;
    } else {
      head = await commit(
        'refs/heads/main',
        at,
        step % 3 === 0 ? 'Agent Bot' : 'Hana',
        `step ${step}\n`,
        head || 0,
        0,
        edit(f),
      );
      made += 1;
    }
  }
  fi.stdin.end(buf.join(''));
  await done;
  return { commits: mark, prs: pr };
}

const time = (fn) => {
  const t = performance.now();
  const r = fn();
  return r instanceof Promise
    ? r.then((v) => [performance.now() - t, v])
    : [performance.now() - t, r];
};
const gitOut = (args) =>
  execFileSync('git', ['-C', dir, ...args], {
    maxBuffer: 4 << 30,
    stdio: ['ignore', 'pipe', 'ignore'],
  }).length;

const [genMs, gen] = await time(generate);
const firstParent = Number(
  execFileSync('git', ['-C', dir, 'rev-list', '--first-parent', '--count', 'main']).toString(),
);
const gitVersion = execFileSync('git', ['--version']).toString().trim();
console.log(
  `git-walk  node ${process.version}  ${os.platform()} ${os.arch()}, ${os.cpus().length} cores  ${gitVersion}\n` +
    `  repository: ${gen.commits} commits (${firstParent} on main's first-parent line, ${gen.prs} PRs), ${FILES} files, generated by fast-import in ${(genMs / 1000).toFixed(1)} s\n` +
    `  one run each (a walk of 100k commits is long enough to time once); load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
const [logMs] = time(() => gitOut(['log', '--first-parent', '--format=%H', 'main']));
const [patchMs, bytes] = time(() =>
  gitOut([
    'log',
    '--first-parent',
    '--reverse',
    '--diff-merges=first-parent',
    '-p',
    '-U0',
    '-M',
    '--format=%x1e%H',
    'main',
  ]),
);
const [walkMs, r] = await time(() =>
  walkGitLines(dir, { repo: 'acme/bench', now: new Date((START + COMMITS * STEP_S) * 1000) }),
);
const rate = (ms) => Math.round((r.stats.firstParent / ms) * 1000).toLocaleString('en-US');
console.log(
  `  baseline: git log --first-parent (hashes only)        ${(logMs / 1000).toFixed(2)} s   ${rate(logMs)} commits/s\n` +
    `  baseline: git log --first-parent -p -U0 (${(bytes / 1e6).toFixed(0)} MB)      ${(patchMs / 1000).toFixed(2)} s   ${rate(patchMs)} commits/s   1.00x\n` +
    `  walkGitLines (graph + diffs + ${r.stats.blamedPrs} blames)          ${(walkMs / 1000).toFixed(2)} s   ${rate(walkMs)} commits/s   ${(walkMs / patchMs).toFixed(2)}x\n` +
    `  rows: ${r.lineFates.length} line groups, ${r.defects.length} defect links; rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`,
);
