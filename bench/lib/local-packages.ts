// Software packages already on this machine, as a corpus nobody wrote for the detectors: the npm
// tarballs in npm's cache (~/.npm/_cacache, which `npm ci` fills) and the jars in Maven's local
// repository (~/.m2). Uploads of them happen (`npm publish`, `mvn deploy`); none of them is a leak.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LocalPackage {
  name: string;
  file: string;
  contentType: string;
  bytes: number;
}

function walk(dir: string, visit: (file: string) => void): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, visit);
    else if (entry.isFile()) visit(full);
  }
}

/**
 * npm's cache: each index bucket line is a hash, a tab and a JSON entry whose key names the
 * request URL and whose integrity (sha512, base64) names the content file.
 */
function npmTarballs(cache: string): LocalPackage[] {
  const found = new Map<string, LocalPackage>();
  walk(path.join(cache, 'index-v5'), (bucket) => {
    for (const line of fs.readFileSync(bucket, 'utf8').split('\n')) {
      const json = line.slice(line.indexOf('\t') + 1);
      if (!json.includes('.tgz"')) continue;
      let entry: { key?: string; integrity?: string };
      try {
        entry = JSON.parse(json) as typeof entry;
      } catch {
        continue;
      }
      const url = /^make-fetch-happen:request-cache:(.+\.tgz)$/.exec(entry.key ?? '')?.[1];
      const sha512 = /^sha512-(\S+)$/.exec(entry.integrity ?? '')?.[1];
      if (url === undefined || sha512 === undefined || found.has(url)) continue;
      const hex = Buffer.from(sha512, 'base64').toString('hex');
      const file = path.join(cache, 'content-v2', 'sha512', hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
      if (fs.existsSync(file)) found.set(url, { name: url.replace(/^.*\/-\//, ''), file, contentType: 'application/gzip', bytes: fs.statSync(file).size });
    }
  });
  return [...found.values()];
}

function jars(repository: string): LocalPackage[] {
  const out: LocalPackage[] = [];
  walk(repository, (file) => {
    if (file.endsWith('.jar')) out.push({ name: path.basename(file), file, contentType: 'application/java-archive', bytes: fs.statSync(file).size });
  });
  return out;
}

/** The npm tarballs and jars of this machine, sorted by name, at most `maxBytes` of them in all. */
export function localPackages(maxBytes: number): LocalPackage[] {
  const home = os.homedir();
  const all = [...npmTarballs(path.join(home, '.npm', '_cacache')), ...jars(path.join(home, '.m2', 'repository'))].sort((a, b) => a.name.localeCompare(b.name));
  const out: LocalPackage[] = [];
  let total = 0;
  for (const p of all) {
    if (total + p.bytes > maxBytes) continue;
    out.push(p);
    total += p.bytes;
  }
  return out;
}
