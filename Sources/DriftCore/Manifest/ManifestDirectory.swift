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
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw DriftError("\(path): manifest directory not found (pass --manifest or set DRIFT_MANIFEST)")
        }
        let mfile = file(Self.manifestFile)
        let manifest = try Manifest.parse(try readWholeFile(mfile), file: mfile)
        let pfile = file(Self.policyFile)
        let pbytes = try readWholeFile(pfile, limit: 4 << 20)
        guard try SHA256Hasher.digest(pbytes).hex == manifest.policySHA256 else {
            throw DriftError("\(pfile): policy does not match the SHA-256 pinned in \(mfile)")
        }
        return (manifest, try Policy.parse(pbytes, file: pfile))
    }
}

#if canImport(Glibc)
import Glibc
#endif
