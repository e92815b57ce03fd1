// Config: one schema, strict, every error with its path; the shipped default is valid; the
// check-config command prints every error and exits non-zero.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../../src/cli/config-commands.js';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig, parseConfig, parseConfigText } from '../../../src/config/index.js';
import { tempDir } from '../../support/temp-dir.js';

function issues(doc: unknown): Array<{ path: string; message: string }> {
  try {
    parseConfig(doc);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

function sink(): { stream: Writable; text(): string } {
  let text = '';
  return {
    stream: new Writable({
      write(chunk, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    }),
    text: () => text,
  };
}

describe('config schema', () => {
  it('accepts the shipped default and an empty document with the pinned defaults', () => {
    const { config } = loadConfig({ file: DEFAULT_CONFIG_FILE });
    expect(config.proxy).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(config.icapServer).toMatchObject({ enabled: true, host: '127.0.0.1', port: 1344 });
    expect(config.services.dlp?.urls).toEqual(['icap://127.0.0.1:1344/dlp']);
    expect(config.policy.map((r) => r.scan ?? r.action)).toEqual(['pass', 'dlp', 'av']);
    expect(config.admin).toMatchObject({ host: '127.0.0.1', port: 9090 });
    const empty = parseConfig({});
    expect(empty.services.av?.urls).toEqual(['icap://127.0.0.1:1344/av']);
    expect(Object.isFrozen(empty.proxy)).toBe(true);
  });

  it.each([
    [{ proxy: { bogus: 1 } }, 'proxy.bogus', /unknown key/],
    [{ services: { dlp: { urls: ['http://dlp.example/x'] } }, policy: [] }, 'services.dlp.urls[0]', /scheme must be icap or icaps/],
    [{ services: { dlp: { urls: ['icap://a/b', { url: 'icap://b/c', weight: 0 }] } }, policy: [] }, 'services.dlp.urls[1].weight', /./],
    [{ policy: [{ name: 'x', scan: 'nope' }] }, 'policy[0].scan', /unknown service "nope"/],
    [{ policy: [{ name: 'x', scan: 'dlp', action: 'block' }] }, 'policy[0]', /exactly one of/],
    [{ proxy: { host: '0.0.0.0' } }, 'proxy.allowedClients', /open proxy is refused/],
    [{ proxy: { host: '0.0.0.0', allowedClients: ['10.0.0.0/33'] } }, 'proxy.allowedClients[0]', /CIDR/],
    [{ proxy: { port: 70000 } }, 'proxy.port', /./],
    [{ cache: { store: 'redis' } }, 'cache', /redisUrl/],
    [{ policy: [{ name: 'x', scan: 'dlp', match: { paths: ['(unclosed'] } }] }, 'policy[0].match.paths[0]', /regular expression/],
  ])('%j → %s', (doc, where, message) => {
    const found = issues(doc);
    const issue = found.find((i) => i.path === where);
    expect(issue, JSON.stringify(found)).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it('reports every error at once, and YAML duplicate keys with their line', () => {
    expect(issues({ proxy: { bogus: 1, port: -1 }, log: { level: 'loud' } }).map((i) => i.path).sort()).toEqual(['log.level', 'proxy.bogus', 'proxy.port']);
    expect(() => parseConfigText('proxy:\n  port: 1\n  port: 2\n')).toThrow(/line 3/);
  });

  it('check-config prints each error with its path and exits 1; a good file exits 0', () => {
    const dir = tempDir('dlp-proxy-cfg-');
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'services:\n  dlp:\n    urls: ["http://nope"]\n    colour: blue\n');
    const out = sink();
    const err = sink();
    expect(checkConfig([bad], out.stream, err.stream)).toBe(1);
    expect(err.text()).toContain('services.dlp.urls[0]: scheme must be icap or icaps');
    expect(err.text()).toContain('services.dlp.colour: unknown key');
    expect(err.text()).toContain('policy[2].scan: unknown service "av"');
    expect(checkConfig([DEFAULT_CONFIG_FILE], out.stream, err.stream)).toBe(0);
    expect(out.text()).toContain('ok');
  });
});
