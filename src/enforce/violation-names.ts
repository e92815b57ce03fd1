// Violation names in plain words for the block page: a person reads "a payment card number", the
// log and the JSON keep the detector's name ("payment-card"). Names from other scanners (ClamAV
// signatures, DLP policy names) are shown as they are.

const PLAIN: Record<string, string> = {
  'payment-card': 'a payment card number',
  iban: 'a bank account number (IBAN)',
  'us-ssn': 'a US social security number',
  'private-key': 'a private key',
  'aws-access-key-id': 'an AWS access key',
  'aws-secret-key': 'an AWS secret key',
  'github-token': 'a GitHub access token',
  'slack-token': 'a Slack access token',
  'EICAR-Test-File': 'the EICAR anti-virus test file',
  'decode-limit': 'content too deeply packed to be checked',
  'decode-limit:bytes': 'content that unpacks to more than can be checked',
  'decode-limit:depth': 'content packed too many levels deep to be checked',
  'decode-limit:ratio': 'a file that unpacks to an abnormal size (a possible archive bomb)',
  'decode-limit:entries': 'an archive with too many files to be checked',
  'decode-limit:method': 'content packed in a way that cannot be checked',
  'encrypted-content': 'an encrypted file or archive that cannot be checked',
  oversize: 'a file too large to be checked',
  overload: 'a file that could not be checked in time',
  'file-type:pe': 'a Windows program',
  'file-type:elf': 'a Linux program',
  'file-type:mach-o': 'a macOS program',
};

export function plainViolation(name: string): string {
  const known = PLAIN[name];
  if (known !== undefined) return known;
  const [kind, detail] = name.split(/:(.*)/s) as [string, string | undefined];
  if (detail !== undefined) {
    if (kind === 'keyword' || kind === 'regex') return `content matching the rule "${detail}"`;
    if (kind === 'policy') return `the site policy "${detail}"`;
    if (kind === 'file-type') return `a file of type ${detail}`;
  }
  return name;
}
