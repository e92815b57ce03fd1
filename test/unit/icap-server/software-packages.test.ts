// Software packages (container-scope.ts): npm tarballs, jars, wheels and the other package formats
// carry native code and the list of their authors by design, so the file-type rules and e-mail
// bulk do not count what is inside them (unless their rule's insidePackages), while the same
// files in any other archive still count. The manifest that makes an archive a package may come
// after the rest; EICAR, cards and every other detector count everywhere.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EICAR } from '../../../src/icap-server/detectors/eicar.js';
import { tarball, zip } from './extract-fixtures.js';
import { scan } from './helpers.js';

const ELF = Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01\x00', 'latin1'), Buffer.alloc(600, 1)]);
const MACH_O = Buffer.concat([Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]), Buffer.alloc(600, 2)]);
const octets = { contentType: 'application/octet-stream' };
const download = (body: Buffer, icapServer: Record<string, unknown> = {}, chunkBytes?: number) => {
  const chunks = chunkBytes === undefined ? body : Array.from({ length: Math.ceil(body.length / chunkBytes) }, (_, i) => body.subarray(i * chunkBytes, (i + 1) * chunkBytes));
  return scan(chunks, { content: octets, service: 'av', method: 'RESPMOD', icapServer });
};
const strict = { detectors: { blockedFileTypes: { insidePackages: true } } };

const npmPackage = (binaryFirst: boolean, extra: Array<{ name: string; data: Buffer | string }> = []) => {
  const manifest = { name: 'package/package.json', data: '{"name":"@esbuild/linux-x64","version":"0.25.0","os":["linux"]}' };
  const binary = { name: 'package/bin/esbuild', data: ELF };
  return tarball(binaryFirst ? [binary, ...extra, manifest] : [manifest, binary, ...extra]);
};

describe('executables inside software packages', () => {
  it('an npm tarball with a native binary downloads, whether its package.json comes before or after the binary, at any chunk size', async () => {
    for (const binaryFirst of [false, true]) {
      const tgz = zlib.gzipSync(await npmPackage(binaryFirst));
      expect(await download(tgz)).toEqual([]);
      expect(await download(tgz, {}, 7)).toEqual([]);
    }
  });

  it('the same binary in a tarball that is not a package, or alone, is blocked', async () => {
    expect(await download(zlib.gzipSync(await tarball([{ name: 'dist/package.json', data: '{}' }, { name: 'dist/tool', data: ELF }])))).toEqual(['file-type:elf']);
    expect(await download(zlib.gzipSync(ELF))).toEqual(['file-type:elf']);
    expect(await download(ELF)).toEqual(['file-type:elf']);
  });

  it('a jar with native libraries and a wheel whose .dist-info comes last are packages; a zip of the same files is not', async () => {
    const natives = [
      { name: 'com/sun/jna/linux-x86-64/libjnidispatch.so', data: ELF },
      { name: 'com/sun/jna/darwin-aarch64/libjnidispatch.jnilib', data: MACH_O },
    ];
    expect(await download(zip([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\r\n' }, ...natives]))).toEqual([]);
    const wheel = zip([{ name: 'numpy/core/_multiarray_umath.so', data: ELF }, { name: 'numpy-2.0.0.dist-info/METADATA', data: 'Name: numpy\n' }, { name: 'numpy-2.0.0.dist-info/WHEEL', data: 'Wheel-Version: 1.0\n' }]);
    expect(await download(wheel, {}, 5)).toEqual([]);
    expect(await download(zip(natives))).toEqual(['file-type:elf', 'file-type:mach-o']);
  });

  it('what is inside an archive inside a package belongs to the package; a package inside a plain zip exempts only itself', async () => {
    const gem = await tarball([{ name: 'metadata.gz', data: zlib.gzipSync('--- !ruby/object:Gem::Specification\n') }, { name: 'data.tar.gz', data: zlib.gzipSync(await tarball([{ name: 'ext/native.so', data: ELF }])) }]);
    expect(await download(gem)).toEqual([]);
    const jar = zip([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\r\n' }, { name: 'lib/native.so', data: ELF }]);
    expect(await download(zip([{ name: 'lib/app.jar', data: jar }, { name: 'setup.exe', data: MACH_O }]))).toEqual(['file-type:mach-o']);
  });

  it('blockedFileTypes.insidePackages counts them again', async () => {
    expect(await download(zlib.gzipSync(await npmPackage(true)), strict)).toEqual(['file-type:elf']);
    expect(await download(zip([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\r\n' }, { name: 'lib/native.so', data: ELF }]), strict)).toEqual(['file-type:elf']);
  });

  it('EICAR inside a package is still found', async () => {
    expect(await download(zlib.gzipSync(await npmPackage(false, [{ name: 'package/test/eicar.com', data: EICAR }])))).toEqual(['EICAR-Test-File']);
  });
});

const people = (n: number, domain: string) => Array.from({ length: n }, (_, i) => `Person ${i} <person.${i}@${domain}>`);
const upload = (body: Buffer, icapServer: Record<string, unknown> = {}) => scan(body, { content: octets, icapServer });

describe('author lists inside software packages', () => {
  it("an npm tarball whose package.json lists 60 contributors uploads; the same files in a plain tarball are e-mail bulk", async () => {
    const manifest = JSON.stringify({ name: 'buffer', contributors: people(60, 'maintainers-mail.net') });
    expect(await upload(zlib.gzipSync(await tarball([{ name: 'package/index.js', data: 'module.exports = 1;\n' }, { name: 'package/package.json', data: manifest }])))).toEqual([]);
    expect(await upload(zlib.gzipSync(await tarball([{ name: 'lib/index.js', data: 'module.exports = 1;\n' }, { name: 'lib/package.json', data: manifest }])))).toEqual(['email-address-bulk']);
  });

  it("a jar whose NOTICE names 70 developers uploads unless emailAddresses.insidePackages; a card in it still counts", async () => {
    const jar = (extra: string) => zip([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\r\n' }, { name: 'META-INF/NOTICE', data: `${people(70, 'apache-dev.org').join('\n')}\n${extra}` }]);
    expect(await upload(jar(''))).toEqual([]);
    expect(await upload(jar(''), { detectors: { emailAddresses: { insidePackages: true } } })).toEqual(['email-address-bulk']);
    expect(await upload(jar('test card 4111 1111 1111 1111'))).toEqual(['payment-card']);
  });

  it('addresses in archives that are no package add up across nesting; those inside a package do not add to the rest', async () => {
    const inner = await tarball([{ name: 'a/customers.txt', data: people(30, 'shop-mail.com').join(', ') }]);
    const other = { name: 'b/more.txt', data: people(30, 'post-office.org').join(', ') };
    expect(await upload(zip([{ name: 'export/a.tar', data: inner }, other]))).toEqual(['email-address-bulk']);
    const pkg = await tarball([{ name: 'package/package.json', data: '{"name":"x"}' }, { name: 'package/AUTHORS', data: people(40, 'authors-mail.net').join('\n') }]);
    expect(await upload(zip([{ name: 'deps/x.tgz', data: zlib.gzipSync(pkg) }, other]))).toEqual([]);
  });
});

describe('bytes after a package are not part of it', () => {
  // A manifest exempts what the archive holds, not what a sender puts after its end: appended to an
  // npm tarball, inside or outside its gzip, or to a jar, an address export still counts.
  const exportOf = (n: number) => Buffer.from(`\n${people(n, 'customer-mail.com').join('\n')}\n`);

  it('an address export appended to a package tar, inside or outside its gzip, or to a jar, is e-mail bulk; the package alone is not', async () => {
    const pkg = await tarball([{ name: 'package/package.json', data: '{"name":"x"}' }, { name: 'package/AUTHORS', data: people(40, 'authors-mail.net').join('\n') }]);
    expect(await upload(zlib.gzipSync(pkg))).toEqual([]);
    expect(await upload(zlib.gzipSync(Buffer.concat([pkg, exportOf(60)])))).toEqual(['email-address-bulk']);
    expect(await upload(Buffer.concat([zlib.gzipSync(pkg), exportOf(60)]))).toEqual(['email-address-bulk']);
    const jar = zip([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\r\n' }, { name: 'META-INF/NOTICE', data: people(70, 'apache-dev.org').join('\n') }]);
    expect(await upload(jar)).toEqual([]);
    expect(await upload(Buffer.concat([jar, exportOf(60)]))).toEqual(['email-address-bulk']);
  });

});
