// `dlp-proxy check-config [FILE]`: every error with its path, non-zero exit when any.
// `dlp-proxy ca init|export [--format pem|der]`: create the CA, or print its certificate.
import path from 'node:path';
import { CertificateAuthority, readCaCertificate } from '../ca/index.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { parseArgs, stringFlag } from './args.js';

export function checkConfig(argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  const args = parseArgs(argv);
  const file = args.positional[0] ?? stringFlag(args, 'config');
  try {
    const { file: used, config } = loadConfig({ file });
    out.write(`${used}: ok (${Object.keys(config.services).length} services, ${config.policy.length} rules)\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const issue of e.issues) err.write(`${issue.path}: ${issue.message}\n`);
    err.write(`${e.issues.length} error${e.issues.length === 1 ? '' : 's'} in ${file ?? 'the config'}\n`);
    return 1;
  }
}

export async function caCommand(argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const args = parseArgs(argv);
  const [sub] = args.positional;
  const { config } = loadConfig({ file: stringFlag(args, 'config') });
  const dir = path.resolve(config.ca.dir);
  if (sub === 'init') {
    const { ca, created, warnings } = await CertificateAuthority.loadOrCreate({ dir, leafValidityDays: config.ca.leafValidityDays, certCacheSize: 1 });
    for (const w of warnings) err.write(`warning: ${w}\n`);
    out.write(`${created ? 'created' : 'exists'}: ${path.join(dir, 'ca.pem')}\nSHA-256 fingerprint: ${ca.fingerprint256}\n`);
    return 0;
  }
  if (sub === 'export') {
    const format = stringFlag(args, 'format') ?? 'pem';
    if (format !== 'pem' && format !== 'der') {
      err.write('--format must be pem or der\n');
      return 2;
    }
    const cert = readCaCertificate(dir);
    out.write(format === 'pem' ? cert.pem : cert.der);
    return 0;
  }
  err.write('usage: dlp-proxy ca init|export [--format pem|der] [--config FILE]\n');
  return 2;
}
