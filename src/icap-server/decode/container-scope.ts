// The file types found inside one archive (a tar or a zip), held until the archive ends, because
// only then is it known whether the archive is a software package. A package manager's archive
// (an npm tarball, a jar, a Python wheel or sdist, a NuGet package, a Ruby gem, a crate) carries
// native code by design: esbuild, lightningcss, JNA, zstd-jni ship ELF, PE and Mach-O files in
// them, and blocking those would break `npm install`, `pip install` and Maven builds (npm even
// treats a blocked optional platform package as absent and installs a broken tree, silently).
// So the executable-type rules (icapServer.detectors.blockedFileTypes) do not count files inside
// a package unless `insidePackages` says so; the EICAR and clamd verdicts always count.
//
// A package is recognised by its manifest, at the path its format puts it (the marker may come
// after the executables: a wheel writes its .dist-info last). What is inside an archive inside a
// package (a gem's data.tar.gz, a jar in a jar) is part of the package.
import type { FindingSink } from '../detectors/findings.js';

const PACKAGE_MANIFESTS = [
  /^package\/package\.json$/, // npm (npm-pack: every entry under package/)
  /^META-INF\/MANIFEST\.MF$/i, // jar, war, ear (JAR File Specification)
  /^[^/]+\.dist-info\/WHEEL$/, // Python wheel (PEP 427)
  /^[^/]+\/PKG-INFO$/, // Python sdist (PEP 643)
  /^[^/]+\.nuspec$/i, // NuGet package (root .nuspec)
  /^metadata\.gz$/, // Ruby gem (a tar of metadata.gz, data.tar.gz)
  /^[^/]+\/Cargo\.toml\.orig$/, // crate (cargo package keeps the original manifest beside the normalised one)
];

export class ContainerScope {
  #package = false;
  readonly #held: string[] = [];

  constructor(readonly parent: ContainerScope | undefined) {}

  /** An entry of this archive, by its path: a package manifest makes the archive a package. */
  entry(name: string | undefined): void {
    if (name !== undefined && !this.#package) this.#package = PACKAGE_MANIFESTS.some((manifest) => manifest.test(name));
  }

  /** A sink for an entry's head probes: file types are held here, anything else goes to `findings`. */
  probeSink(findings: FindingSink): FindingSink {
    return {
      add: (name, kind, minCount, count) => {
        if (kind === 'file-type') this.#held.push(name);
        else findings.add(name, kind, minCount, count);
      },
    };
  }

  /** The archive ended: its file types go to the enclosing archive, or to `findings` at the top, unless it is a package. */
  close(findings: FindingSink, countInsidePackages: boolean): void {
    if (this.#package && !countInsidePackages) return;
    for (const name of this.#held) {
      if (this.parent !== undefined) this.parent.#held.push(name);
      else findings.add(name, 'file-type');
    }
  }
}
