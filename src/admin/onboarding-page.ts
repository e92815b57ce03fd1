// The onboarding page at / of the admin listener: what the proxy is, its CA certificate to
// download with the SHA-256 fingerprint to compare, how to point clients at the proxy (address or
// PAC file), and per-platform steps to trust the CA. Every inserted value is HTML-escaped; the
// page loads nothing (inline style, no script), like the block page.

export interface OnboardingFields {
  /** colon-separated SHA-256 of the CA certificate (DER) */
  fingerprint256: string;
  /** CA subject common name */
  caName: string;
  /** http://host:port of the admin listener as the client reached it */
  adminOrigin: string;
  /** host:port of the proxy */
  proxyAddress: string;
  contact: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

interface Platform {
  id: string;
  title: string;
  intro: string;
  commands?: string[];
  steps?: string[];
}

function platforms(f: OnboardingFields): Platform[] {
  const pem = `${f.adminOrigin}/ca.pem`;
  return [
    {
      id: 'windows',
      title: 'Windows',
      intro: 'Download dlp-proxy-ca.crt above, then in a Command Prompt opened with "Run as administrator":',
      commands: ['certutil -addstore -f Root dlp-proxy-ca.crt'],
      steps: ['Edge and Chrome use the Windows store at once; restart them if they were open.'],
    },
    {
      id: 'macos',
      title: 'macOS',
      intro: 'In Terminal (Safari and Chrome use the System keychain):',
      commands: [`curl -fsSLo dlp-proxy-ca.pem ${pem}`, 'sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain dlp-proxy-ca.pem'],
    },
    {
      id: 'debian',
      title: 'Debian and Ubuntu (system store: curl, wget, Python, apt)',
      intro: 'The file must end in .crt in this folder:',
      commands: [`sudo curl -fsSLo /usr/local/share/ca-certificates/dlp-proxy-ca.crt ${pem}`, 'sudo update-ca-certificates'],
    },
    {
      id: 'chrome',
      title: 'Chrome and Chromium on Linux (NSS)',
      intro: 'Chrome on Linux reads its own NSS store (certutil is in the libnss3-tools package):',
      commands: [`curl -fsSLo dlp-proxy-ca.pem ${pem}`, 'certutil -d sql:$HOME/.pki/nssdb -A -t "C,," -n dlp-proxy -i dlp-proxy-ca.pem'],
    },
    {
      id: 'firefox',
      title: 'Firefox',
      intro: 'Firefox keeps its own list of authorities:',
      steps: [
        'Settings → Privacy & Security → Certificates → View Certificates… → Authorities → Import…',
        'Choose dlp-proxy-ca.pem and tick "Trust this CA to identify websites".',
        'Or, where the CA is already in the system store, set security.enterprise_roots.enabled to true in about:config.',
      ],
    },
    {
      id: 'curl',
      title: 'curl and command-line tools',
      intro: 'For a single command, without installing the CA system-wide:',
      commands: [
        `curl -fsSLo dlp-proxy-ca.pem ${pem}`,
        `curl --proxy http://${f.proxyAddress} --cacert dlp-proxy-ca.pem https://example.com/`,
        `export HTTPS_PROXY=http://${f.proxyAddress} HTTP_PROXY=http://${f.proxyAddress}`,
        'export NODE_EXTRA_CA_CERTS=$PWD/dlp-proxy-ca.pem REQUESTS_CA_BUNDLE=$PWD/dlp-proxy-ca.pem',
      ],
    },
  ];
}

function platformHtml(p: Platform): string {
  const commands = p.commands ? `<pre>${p.commands.map(escapeHtml).join('\n')}</pre>` : '';
  const steps = !p.steps ? '' : p.steps.length === 1 ? `<p>${escapeHtml(p.steps[0]!)}</p>` : `<ol>${p.steps.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ol>`;
  return `<section id="${p.id}"><h3>${escapeHtml(p.title)}</h3><p>${escapeHtml(p.intro)}</p>${commands}${steps}</section>`;
}

export function renderOnboardingPage(f: OnboardingFields): string {
  const e = escapeHtml;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Set up this device for the data protection proxy</title>
<style>
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f4f5f7; color: #1f2328; }
  main { max-width: 48rem; margin: 4vh auto; padding: 2rem 2.25rem; background: #fff; border-radius: 10px; box-shadow: 0 1px 4px rgba(0,0,0,.12); border-top: 6px solid #1f6feb; }
  h1 { font-size: 1.5rem; margin: 0 0 .75rem; } h2 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; } h3 { font-size: 1rem; margin: 1.25rem 0 .25rem; }
  p { margin: 0 0 .75rem; }
  .fp { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9rem; word-break: break-all; background: #f6f8fa; padding: .6rem .8rem; border-radius: 6px; }
  pre { background: #0d1117; color: #e6edf3; padding: .75rem 1rem; border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; font-size: .85rem; }
  a.button { display: inline-block; margin: 0 .5rem .5rem 0; padding: .45rem .9rem; border-radius: 6px; background: #1f6feb; color: #fff; text-decoration: none; }
  code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  .note { color: #57606a; font-size: .95rem; }
</style>
</head>
<body>
<main>
  <h1>Set up this device for the data protection proxy</h1>
  <p>Your organisation checks what is uploaded to and downloaded from the web for sensitive data and malware. To do that for secure (HTTPS) websites, your device has to trust the proxy's certificate authority, <strong>${e(f.caName)}</strong>.</p>

  <h2>1. Download the certificate</h2>
  <p><a class="button" href="/ca.pem" download="dlp-proxy-ca.pem">dlp-proxy-ca.pem</a><a class="button" href="/ca.der" download="dlp-proxy-ca.crt">dlp-proxy-ca.crt (DER, for Windows)</a></p>
  <p>Before you trust it, check that its SHA-256 fingerprint is exactly:</p>
  <p class="fp" id="fingerprint">${e(f.fingerprint256)}</p>
  <pre>openssl x509 -in dlp-proxy-ca.pem -noout -fingerprint -sha256</pre>

  <h2>2. Use the proxy</h2>
  <p>Set the HTTP and HTTPS proxy to <code id="proxy-address">${e(f.proxyAddress)}</code>, or use automatic configuration with the address <code id="pac-url">${e(f.adminOrigin)}/proxy.pac</code>.</p>

  <h2>3. Trust the certificate</h2>
  ${platforms(f).map(platformHtml).join('\n  ')}

  <p class="note">Questions? Contact ${e(f.contact)}.</p>
</main>
</body>
</html>
`;
}
