import Foundation

/// The manifest directory (MDIR) baked into the image: `manifest.txt`, `policy.yaml`,
/// `base.git/` and, when recorded, `pip.json`; see docs/manifest-format.md.
public struct ManifestDirectory: Sendable {
    public static let manifestFile = "manifest.txt"
    public static let policyFile = "policy.yaml"
    public static let baseRepo = "base.git"
    public static let pipFile = "pip.json"
    public static let signatureFile = "manifest.sig"

    public let path: String

    public init(path: String) { self.path = path }

    /// `--manifest`, else `$DRIFT_MANIFEST`, else `/etc/drift`.
    public static func locate(_ flag: String?) -> ManifestDirectory {
        if let f = flag, !f.isEmpty { return ManifestDirectory(path: f) }
        if let e = ProcessInfo.processInfo.environment["DRIFT_MANIFEST"], !e.isEmpty { return ManifestDirectory(path: e) }
        return ManifestDirectory(path: "/etc/drift")
    }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Reads and verifies the manifest and the policy it pins.
    public func load() throws -> (Manifest, Policy) {
        let raw = try readRaw()
        let manifest = try raw.parseManifest()
        try raw.verifyPolicy(manifest)
        return (manifest, try raw.parsePolicy())
    }

    /// The unparsed manifest and policy files, so callers can parse them in parallel.
    public struct Raw: Sendable {
        public var manifestFile: String
        public var manifestBytes: [UInt8]
        public var policyFile: String
        public var policyBytes: [UInt8]

        public func parseManifest() throws -> Manifest { try Manifest.parse(manifestBytes, file: manifestFile) }
        public func parsePolicy() throws -> Policy { try Policy.parse(policyBytes, file: policyFile) }

        /// Checks the policy against the hash the (verified) manifest pins.
        public func verifyPolicy(_ m: Manifest) throws {
            guard try SHA256Hasher.digest(policyBytes).hex == m.policySHA256 else {
                throw DriftError("\(policyFile): policy does not match the SHA-256 pinned in \(manifestFile)")
            }
        }
    }

    public func readRaw() throws -> Raw {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw DriftError("\(path): manifest directory not found (pass --manifest or set DRIFT_MANIFEST)")
        }
        let mfile = file(Self.manifestFile), pfile = file(Self.policyFile)
        return Raw(manifestFile: mfile, manifestBytes: try readWholeFile(mfile),
                   policyFile: pfile, policyBytes: try readWholeFile(pfile, limit: 4 << 20))
    }
}

#if canImport(Glibc)
import Glibc
#endif
