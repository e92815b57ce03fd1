import { describe, expect, it } from 'vitest';
import { scan } from './helpers.js';

const KEY_LINE = 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun';
const GITHUB = 'ghp_' + 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY2z4A';
const PAT = 'github_pat_11ABCDEFG0' + 'abcdefghijklmnopqrstuv_' + 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456';

describe('credentials', () => {
  it('finds PEM private keys but not public keys or certificates', async () => {
    expect(await scan(`-----BEGIN RSA PRIVATE KEY-----\n${KEY_LINE}\n${KEY_LINE}`)).toEqual(['private-key']);
    expect(await scan(`-----BEGIN PRIVATE KEY-----\r\n${KEY_LINE}\r\n`)).toEqual(['private-key']);
    expect(await scan(`-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F2A\n\n${KEY_LINE}`)).toEqual(['private-key']);
    expect(await scan('-----BEGIN OPENSSH PRIVATE KEY-----')).toEqual(['private-key']);
    expect(await scan('-----BEGIN PGP PRIVATE KEY BLOCK-----')).toEqual(['private-key']);
    expect(await scan('-----BEGIN PUBLIC KEY-----\n-----BEGIN CERTIFICATE-----')).toEqual([]);
  });

  it('a key header quoted in documentation, with a placeholder after it, is low confidence', async () => {
    const doc = 'A key file starts with -----BEGIN RSA PRIVATE KEY----- followed by base64 lines.';
    expect(await scan(doc)).toEqual([]);
    expect(await scan('-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----')).toEqual([]);
    expect(await scan(doc, { icapServer: { detectors: { privateKeys: { minConfidence: 'low' } } } })).toEqual(['private-key']);
    const high = { detectors: { privateKeys: { minConfidence: 'high' } } };
    expect(await scan('-----BEGIN PRIVATE KEY-----', { icapServer: high })).toEqual([]);
    expect(await scan(`-----BEGIN PRIVATE KEY-----\n${KEY_LINE}`, { icapServer: high })).toEqual(['private-key']);
  });

  it('finds AWS access key ids, not the documentation placeholder or longer words', async () => {
    expect(await scan('aws_access_key_id = AKIAQ3EGRDZ5LPMW6TXY')).toEqual(['aws-access-key-id']);
    expect(await scan('ASIAY34FZKBOKMUTVV7A')).toEqual(['aws-access-key-id']);
    expect(await scan('AKIAIOSFODNN7EXAMPLE')).toEqual([]);
    expect(await scan('XAKIAQ3EGRDZ5LPMW6TXY AKIAQ3EGRDZ5LPMW6TXY9')).toEqual([]);
  });

  it('finds AWS secret keys only near an aws/secret context', async () => {
    const key = 'k7Qx9vR2mT4pL8nW1sD6fH3jB5gC0aZyXeUoNiPq';
    expect(await scan(`aws_secret_access_key = ${key}`)).toEqual(['aws-secret-key']);
    expect(await scan(`{"SecretAccessKey": "${key}"}`)).toEqual(['aws-secret-key']);
    // the name in any case at a word start, or capitalised as a camelCase part; the triggers are looked for in any case
    expect(await scan(`sEcReT_kEy = ${key}`)).toEqual(['aws-secret-key']);
    expect(await scan(`aWs_key = ${key}`)).toEqual(['aws-secret-key']);
    expect(await scan(`{"awsSecretAccessKey": "${key}"}`)).toEqual(['aws-secret-key']);
    expect(await scan(`clientSecret: ${key}`)).toEqual(['aws-secret-key']);
    expect(await scan(`MY_APP_SECRET=${key}`)).toEqual(['aws-secret-key']);
    // "awS" inside random base64 is no name: its wrapped next line of 40 characters is no key
    expect(await scan(`Y5KrauawSttRrSWVuaAEXY8X\n${key}\nid 612566`)).toEqual([]);
    expect(await scan(`rawsecretion ${key}`)).toEqual([]);
    expect(await scan(`hash ${key}`)).toEqual([]);
    expect(await scan('secret = 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12')).toEqual([]); // hex SHA-1
    expect(await scan('aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toEqual([]);
    // a class file's constant pool: a Java class path of 40 characters after a name holding AWS
    expect(await scan(Buffer.from('\x01\x00\x0f$AWSFJTWrappedTask;\x01\x00\x28scala/collection/parallel/AdaptiveWorkSt\x01\x00', 'latin1'))).toEqual([]);
    expect(await scan('secret: kQxa/vRamTepL/nWusDsfH/jBtgCuaZyXeUoNiPq')).toEqual([]); // slashes and letters, no digit or +
    expect(await scan(Buffer.from('\x11AWSFJTWrappedTask\x01\x006scala/collection/parallel/ForkJoinTasks\x07\x00', 'latin1'))).toEqual([]); // a length byte that reads 6
    expect(await scan(`secret: k7Qx/vR2mT4pL/nW1sD6fH3jB5gC0aZyXeUoNiPq`)).toEqual(['aws-secret-key']); // slashes in a key
    expect(await scan('secret: kQxa/vRamTepL/nWusDsfH/jBtgCuaZyXeUoNiP+')).toEqual(['aws-secret-key']);
  });

  it('finds GitHub and Slack tokens', async () => {
    expect(await scan(`token: ${GITHUB}`)).toEqual(['github-token']);
    expect(await scan(`GH_TOKEN=${PAT}`)).toEqual(['github-token']);
    expect(await scan(`${GITHUB}x`)).toEqual([]); // 37 characters is not a token
    expect(await scan('ghx_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY2z4A')).toEqual([]);
    expect(await scan('SLACK=xoxb-263593224453-1283746219283-Zx8aQmW2pLr7TnVb4KdYs6Hc')).toEqual(['slack-token']);
    expect(await scan('xoxp-1234567890-1234567890-1234567890-0123456789abcdef0123456789abcdef')).toEqual(['slack-token']);
    expect(await scan('xoxz-263593224453-Zx8aQmW2pLr7TnVb4KdYs6Hc and xoxb-nodigits')).toEqual([]);
  });
});
