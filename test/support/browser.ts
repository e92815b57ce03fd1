// Debian's Chromium (headless, driven by playwright-core through its executable path; no browser is
// ever downloaded) with every request through the proxy, loopback included, trusting the proxy's
// CA through an NSS database made with certutil in a temporary HOME (where Chromium on Linux reads
// it). The flags are those that keep it off this machine's closed network.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { ensureBinary } from './peers/common.js';

export interface BrowserOptions {
  /** a directory of the test's own: the HOME, the NSS database and the profile go there */
  dir: string;
  proxyPort: number;
  caPem: string;
  /** hosts reached directly (host:port, Chromium's bypass syntax), besides nothing: loopback goes through the proxy */
  bypass?: string[];
  viewport: { width: number; height: number };
  acceptDownloads?: boolean;
}

export async function launchBrowserThroughProxy(options: BrowserOptions): Promise<BrowserContext> {
  const browserPath = ensureBinary('chromium', ['chromium']);
  const certutil = ensureBinary('certutil', ['libnss3-tools']);
  const home = path.join(options.dir, 'home');
  const nssdb = path.join(home, '.pki', 'nssdb');
  fs.mkdirSync(nssdb, { recursive: true });
  const caFile = path.join(options.dir, 'dlp-proxy-ca.pem');
  fs.writeFileSync(caFile, options.caPem);
  for (const args of [
    ['-N', '-d', `sql:${nssdb}`, '--empty-password'],
    ['-A', '-d', `sql:${nssdb}`, '-n', 'dlp-proxy test CA', '-t', 'C,,', '-i', caFile],
  ]) {
    const r = spawnSync(certutil, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`certutil ${args.join(' ')}: ${r.stderr}`);
  }
  return chromium.launchPersistentContext(path.join(options.dir, 'profile'), {
    executablePath: browserPath,
    headless: true,
    ...(options.acceptDownloads ? { acceptDownloads: true } : {}),
    env: { ...process.env, HOME: home },
    viewport: options.viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable',
      `--proxy-server=http://127.0.0.1:${options.proxyPort}`,
      // Chromium sends loopback DIRECT unless told otherwise; the test origins are on loopback.
      `--proxy-bypass-list=${['<-loopback>', ...(options.bypass ?? [])].join(';')}`,
    ],
  });
}
