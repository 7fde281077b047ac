import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The manifest directory (MDIR) baked into the image: `manifest.txt`, `policy.yaml`,
/// `base.git/` and, when recorded, `pip.json`; see docs/manifest-format.md.
public struct ManifestDirectory: Sendable {
    static let manifestFile = "manifest.txt"
    static let policyFile = "policy.yaml"
    static let baseRepo = "base.git"
    static let pipFile = "pip.json"
    static let signatureFile = "manifest.sig"
    /// The binary entry index (`ManifestTable`), pinned in `manifest.txt`.
    static let indexFile = "manifest.idx"

    /// The directory's name as bytes (`--manifest`, `$DRIFT_MANIFEST` or `--output` as given).
    public let path: [UInt8]
    /// When set, nothing in MDIR is trusted before the signature and every pin verify. The
    /// key file's name as bytes (`--public-key` or `$DRIFT_PUBLIC_KEY` as given, not UTF-8 too).
    public var publicKey: [UInt8]?
    /// Test hook: counts reads of MDIR's files (nil: not counted).
    var reads: ReadCounter?

    public init(path: [UInt8], publicKey: [UInt8]? = nil) {
        self.path = path
        self.publicKey = publicKey
    }

    /// A manifest directory named by text (a literal, a test's temp dir).
    init(path: String, publicKey: [UInt8]? = nil) { self.init(path: Array(path.utf8), publicKey: publicKey) }

    /// `path` for messages, through the one quoting function.
    public var shown: String { PathBytes.display(path) }

    /// Where an image keeps the public key its manifest is signed with: outside MDIR (a re-baked
    /// MDIR cannot bring its own key), owned by root. Every verb that reads MDIR verifies with it
    /// when it exists and no other key is given, so cron jobs verify with no flag or environment.
    public static let defaultPublicKey = "/etc/drift-keys/manifest.pub"

    /// `path` when it exists and only root can change it; nil when it does not exist.
    /// - Throws: `DriftError` when it exists but is not a regular file owned by root, or it or
    ///   its directory is writable by anyone else (a key others can replace verifies nothing).
    public static func trustedDefaultKey(_ path: String = defaultPublicKey) throws -> String? {
        let keyIsRoots: Bool
        do {
            keyIsRoots = try FileSystem.isRootOnly(path, kind: .regular)
        } catch {
            if error == .noSuchFileOrDirectory { return nil }
            throw DriftError(.signatureInvalid, path: path, "cannot read the default public key: \(error)")
        }
        let dirIsRoots = (try? FileSystem.isRootOnly(WriteTarget.parentOf(path), kind: .directory)) ?? false
        guard keyIsRoots && dirIsRoots else {
            throw DriftError(.signatureInvalid, path: path,
                "the default public key must be a regular file owned by root, "
                + "in a directory owned by root, neither writable by group or others")
        }
        return path
    }

    /// The first of `candidates` that is set and not empty, else `/etc/drift`.
    /// - Parameters:
    ///   - candidates: in order of precedence (the CLI passes `--manifest`, then `$DRIFT_MANIFEST`).
    ///   - publicKey: the Ed25519 key to verify with, if any.
    /// - Returns: the manifest directory to read.
    public static func locate(_ candidates: [[UInt8]?], publicKey: [UInt8]?) -> ManifestDirectory {
        let path = candidates.compactMap { $0 }.first { !$0.isEmpty } ?? Array("/etc/drift".utf8)
        return ManifestDirectory(path: path, publicKey: publicKey?.isEmpty == true ? nil : publicKey)
    }

    /// Checks `manifest.sig` over `manifest.txt` and every file the manifest pins.
    /// Any failure is "manifest signature does not verify: …".
    func verifySignature(manifestBytes: [UInt8], keyFile: [UInt8]) throws {
        func fail(_ why: String) -> DriftError {
            DriftError(.signatureInvalid, "manifest signature does not verify: \(why)")
        }
        let sigFile = file(Self.signatureFile)
        let sig: [UInt8]
        do { sig = try readWholeFile(sigFile, limit: 4096) } catch let e as DriftError {
            throw fail(Self.isMissing(sigFile) ? "\(PathBytes.display(sigFile)) is missing" : e.message)
        }
        guard try Ed25519.verify(manifestBytes, signature: sig, keyFile: keyFile) else {
            let key = PathBytes.display(keyFile)
            throw fail("\(PathBytes.display(sigFile)) is not a valid signature of \(shownFile(Self.manifestFile)) "
                       + "by \(key)")
        }
        let m: Manifest
        do {
            m = try Manifest.parse(manifestBytes, file: file(Self.manifestFile))
        } catch let e as DriftError {
            throw fail(e.message)
        }
        for (name, sha) in [(Self.policyFile, m.policySHA256)] + m.pins.map({ ($0.name, $0.sha256) }) {
            let b: [UInt8]
            do { b = try readWholeFile(file(name), limit: 512 << 20) } catch let e as DriftError {
                throw fail(Self.isMissing(file(name)) ? "\(shownFile(name)) is missing" : e.message)
            }
            guard try SHA256Hasher.digest(b) == sha else {
                throw fail("\(shownFile(name)) changed since it was signed")
            }
        }
    }

    /// A file in the directory, as bytes.
    public func file(_ name: String) -> [UInt8] { path + Array("/\(name)".utf8) }

    /// `file(name)` for messages.
    func shownFile(_ name: String) -> String { PathBytes.display(file(name)) }

    /// The root `manifest.txt` names, read without verifying anything: only to decide where a
    /// failed run must not write (`RunFailure`); nil when it cannot be read.
    public func unverifiedRoot() -> [UInt8]? {
        guard let b = try? readWholeFile(file(Self.manifestFile), limit: 1 << 20) else { return nil }
        return Manifest.peekRoot(b)
    }

    /// Reads and verifies the manifest and the policy it pins.
    public func load() throws -> (Manifest, Policy) {
        let raw = try readRaw()
        try raw.verifyPolicyPin()
        let manifest = try raw.parseManifest()
        try raw.verifyPolicy(manifest)
        return (manifest, try raw.parsePolicy())
    }

    /// The unparsed manifest and policy files, so callers can parse them in parallel.
    public struct Raw: Sendable {
        var manifestFile: [UInt8]
        var manifestBytes: [UInt8]
        var policyFile: [UInt8]
        var policyBytes: [UInt8]

        /// The manifest entries' index, when `manifest.txt` pins one (MDIRs made before it have none).
        var indexFile: [UInt8]?

        /// Parses and verifies the manifest. When its header pins `manifest.idx`, the entries come
        /// from that index (verified against the pin, every offset checked) and the entry lines are
        /// not parsed.
        func parseManifest() throws -> Manifest {
            guard let indexFile, let pin = Manifest.peekPin(manifestBytes, ManifestDirectory.indexFile) else {
                return try Manifest.parse(manifestBytes, file: manifestFile)
            }
            let b = try readWholeFile(indexFile, limit: 8 << 30)
            guard try SHA256Hasher.digest(b) == pin else {
                throw DriftError(.manifestInvalid, path: indexFile,
                    "manifest index does not match the SHA-256 pinned in \(PathBytes.display(manifestFile))")
            }
            guard let table = ManifestTable(serialized: b) else {
                throw DriftError(.manifestInvalid, path: indexFile, "manifest index is damaged")
            }
            let m = try Manifest.parse(manifestBytes, file: manifestFile, index: table)
            // The pin was read before the checksum was verified: it must be the verified one.
            guard m.pins.contains(where: { $0.name == ManifestDirectory.indexFile && $0.sha256 == pin }) else {
                throw DriftError(.manifestInvalid, path: manifestFile,
                    "manifest is corrupt: the index pin is not in its header")
            }
            return m
        }
        func parsePolicy() throws -> Policy { try Policy.parse(policyBytes, file: policyFile) }

        /// Checks the policy against the pin in the manifest's header before anything parses
        /// the policy (a hostile, unpinned policy never reaches the YAML parser).
        func verifyPolicyPin() throws {
            guard let pin = Manifest.peekPolicySHA256(manifestBytes),
                  try SHA256Hasher.digest(policyBytes) == pin else {
                throw DriftError(.manifestInvalid, path: policyFile,
                    "policy does not match the SHA-256 pinned in \(PathBytes.display(manifestFile))")
            }
        }

        /// Checks the policy against the hash the (verified) manifest pins.
        func verifyPolicy(_ m: Manifest) throws {
            guard try SHA256Hasher.digest(policyBytes) == m.policySHA256 else {
                throw DriftError(.manifestInvalid, path: policyFile,
                    "policy does not match the SHA-256 pinned in \(PathBytes.display(manifestFile))")
            }
        }
    }

    func readRaw() throws -> Raw {
        reads?.count(.manifestDirectory)
        guard FileSystem.isDirectory(path) else {
            throw DriftError(.manifestInvalid, path: path,
                "manifest directory not found (pass --manifest or set DRIFT_MANIFEST)")
        }
        let mfile = file(Self.manifestFile), pfile = file(Self.policyFile)
        let mbytes: [UInt8]
        if let key = publicKey {
            let b: [UInt8]
            do { b = try readWholeFile(mfile) } catch let e as DriftError {
                let why = Self.isMissing(mfile) ? "\(PathBytes.display(mfile)) is missing" : e.message
                throw DriftError(.signatureInvalid, "manifest signature does not verify: \(why)")
            }
            try verifySignature(manifestBytes: b, keyFile: key)
            mbytes = b
        } else {
            mbytes = try readWholeFile(mfile)
        }
        var raw = Raw(manifestFile: mfile, manifestBytes: mbytes,
                      policyFile: pfile, policyBytes: try readWholeFile(pfile, limit: 4 << 20))
        raw.indexFile = file(Self.indexFile)
        return raw
    }

    /// Bytes of `manifest.txt` read ahead for its header (`readHead`): the header lines come first
    /// and are short (a root path is at most 4,096 bytes), so this holds them with room to spare.
    static let headBytes = 64 << 10

    /// `readRaw` with only the head of `manifest.txt` (`headBytes`), when that head names the
    /// root and the policy's pin: enough to check and parse the policy and start the walk while
    /// the rest is read (`readRaw(following:)`). nil for a signed MDIR (nothing is trusted
    /// before the signature verifies over the whole file) or a head that does not name both.
    func readHead() throws -> Raw? {
        guard publicKey == nil else { return nil }
        guard FileSystem.isDirectory(path) else {
            throw DriftError(.manifestInvalid, path: path,
                "manifest directory not found (pass --manifest or set DRIFT_MANIFEST)")
        }
        let mfile = file(Self.manifestFile), pfile = file(Self.policyFile)
        let head = try readFileHead(mfile, count: Self.headBytes)
        guard Manifest.peekRoot(head) != nil, Manifest.peekPolicySHA256(head) != nil else { return nil }
        var raw = Raw(manifestFile: mfile, manifestBytes: head, policyFile: pfile,
                      policyBytes: try readWholeFile(pfile, limit: 4 << 20))
        raw.indexFile = file(Self.indexFile)
        reads?.count(.manifestDirectory)
        return raw
    }

    /// The whole of `manifest.txt` after `readHead`, with the policy bytes that head was checked
    /// with: the file must still begin with the head the walk was started from (a manifest
    /// replaced in between is refused, never half the old one and half the new).
    func readRaw(following head: Raw) throws -> Raw {
        let bytes = try readWholeFile(head.manifestFile)
        guard bytes.starts(with: head.manifestBytes) else {
            throw DriftError(.manifestInvalid, path: head.manifestFile, "manifest changed while it was read")
        }
        var raw = head
        raw.manifestBytes = bytes
        return raw
    }

    /// Whether `path` does not exist at all (any other read failure is reported as itself).
    static func isMissing(_ path: [UInt8]) -> Bool {
        FileSystem.isAbsent(path)
    }
}
