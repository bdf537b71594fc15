#!/usr/bin/env python3
"""Converts gitleaks' config/gitleaks.toml into instrumentation/src/secret-rules.json.

Usage: python3 scripts/gitleaks-rules.py PATH/TO/gitleaks.toml COMMIT VERSION
(python3 >= 3.11 for tomllib; node on PATH to check that each pattern compiles as a JS RegExp).

Go RE2 syntax is rewritten for JavaScript: a leading (?i)/(?s)/(?m) becomes a flag; inline groups
(?i:...) / (?-i:...) become plain groups and the rule runs case-insensitive as a whole (a broader
match: for redaction, masking a little more is the safe side); (?P<n> becomes (?<n>; \\z becomes $,
\\A becomes ^; POSIX classes become ranges. Rules whose pattern still does not compile are left out
and listed in `skipped`. Allow-lists kept: `regexes` on the secret or the match, and `stopwords`.
"""
import json, re, subprocess, sys, tomllib

POSIX = {'[:alnum:]': 'A-Za-z0-9', '[:alpha:]': 'A-Za-z', '[:digit:]': '0-9', '[:upper:]': 'A-Z',
         '[:lower:]': 'a-z', '[:space:]': '\\s', '[:xdigit:]': '0-9A-Fa-f', '[:punct:]': '!-/:-@\\[-`{-~',
         '[:word:]': '\\w'}

def convert(src):
    flags = set()
    m = re.match(r'^\(\?([ims]+)\)', src)
    if m:
        flags |= set(m.group(1)); src = src[m.end():]
    def inline(mm):
        on = mm.group(1) or ''
        if 'i' in on: flags.add('i')
        if 's' in on: flags.add('s')
        return '(?:'
    src = re.sub(r'\(\?([ims]*)(?:-[ims]+)?:', inline, src)
    if re.search(r'\(\?[ims-]+\)', src):
        for f in re.findall(r'\(\?([ims]+)\)', src): flags |= set(f)
        src = re.sub(r'\(\?[ims-]+\)', '', src)
    src = src.replace('(?P<', '(?<').replace('\\z', '$').replace('\\A', '^')
    for k, v in POSIX.items(): src = src.replace(k, v)
    return src, ''.join(sorted(flags))

def main():
    path, commit, version = sys.argv[1:4]
    config = tomllib.load(open(path, 'rb'))
    rules, candidates = [], []
    for r in config['rules']:
        if 'regex' not in r: continue
        src, flags = convert(r['regex'])
        allow = []
        for a in r.get('allowlists', []):
            if a.get('paths') and a.get('condition') != 'OR' and not a.get('regexes') and not a.get('stopwords'):
                continue  # path-only allow-lists do not apply to telemetry text
            if a.get('regexTarget', 'secret') == 'line' or a.get('paths'):
                continue
            entry = {'target': a.get('regexTarget', 'secret')}
            if a.get('regexes'):
                entry['regexes'] = [convert(x) for x in a['regexes']]
            if a.get('stopwords'):
                entry['stopwords'] = a['stopwords']
            allow.append(entry)
        rule = {'id': r['id'], 'regex': src, 'flags': flags, 'keywords': r.get('keywords', [])}
        if 'entropy' in r: rule['entropy'] = r['entropy']
        if 'secretGroup' in r: rule['secretGroup'] = r['secretGroup']
        if allow: rule['allow'] = allow
        candidates.append(rule)
    check = subprocess.run(['node', '-e', '''
const rules = JSON.parse(require("fs").readFileSync(0, "utf8"));
const ok = (s, f) => { try { new RegExp(s, "gd" + f); return true; } catch { return false; } };
console.log(JSON.stringify(rules.map((r) => ok(r.regex, r.flags) &&
  (r.allow ?? []).every((a) => (a.regexes ?? []).every(([s, f]) => ok(s, f))))));
'''], input=json.dumps(candidates), capture_output=True, text=True, check=True)
    compiled = json.loads(check.stdout)
    skipped = [r['id'] for r, ok in zip(candidates, compiled) if not ok]
    rules = [r for r, ok in zip(candidates, compiled) if ok]
    out = {
        'source': {'repository': 'https://github.com/gitleaks/gitleaks', 'file': 'config/gitleaks.toml',
                   'commit': commit, 'version': version, 'license': 'MIT',
                   'generator': 'scripts/gitleaks-rules.py'},
        'skipped': skipped,
        'rules': rules,
    }
    json.dump(out, open('instrumentation/src/secret-rules.json', 'w'), indent=1)
    print(f'{len(rules)} rules written, {len(skipped)} skipped: {skipped}')

main()
