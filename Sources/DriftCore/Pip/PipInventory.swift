import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One installed distribution as its metadata directory describes it.
public struct InstalledDistribution: Codable, Sendable, Equatable {
    /// PEP 503-normalised name.
    public var name: String
    public var version: String
    var installer: String?
    /// `*.dist-info` or `*.egg-info`, relative to site-packages.
    var metadataDir: String
    /// `direct_url.json`'s `url`, when the install came from a URL, VCS or local path.
    var url: String?
    var editable: Bool
    public var files: [RecordEntry]
    /// SHA-256 of the RECORD file's bytes (nil in baselines baked before it was kept, and for
    /// egg-info): a RECORD rewritten after the bake is drift of its own.
    var recordSHA256: Digest?

    enum CodingKeys: String, CodingKey {
        case name, version, installer, url, editable, files
        case metadataDir = "metadata_dir"
        case recordSHA256 = "record_sha256"
    }
}

/// What one site-packages directory holds.
public struct SitePackagesInventory: Codable, Sendable {
    /// The directory, as bytes (`--site-packages` as given, a name that is not UTF-8 too).
    public var path: [UInt8]
    /// The environment's prefix (`<prefix>/lib/pythonX.Y/site-packages`): RECORD entries
    /// that point outside site-packages are verified only within it.
    public var prefix: [UInt8]
    var distributions: [InstalledDistribution]
    /// Files no RECORD lists (`__pycache__` excepted), relative to site-packages.
    var unowned: [String]
    /// `__pycache__` pycs as walked this run (not stored in the baseline): `SitePycCheck`
    /// verifies them against their sources.
    var bytecode: [WalkEntry] = []

    enum CodingKeys: String, CodingKey {
        case path, prefix, distributions, unowned
        case pathEscaped = "path_escaped"
        case prefixEscaped = "prefix_escaped"
    }

    public init(path: [UInt8], prefix: [UInt8], distributions: [InstalledDistribution], unowned: [String],
                bytecode: [WalkEntry] = []) {
        self.path = path
        self.prefix = prefix
        self.distributions = distributions
        self.unowned = unowned
        self.bytecode = bytecode
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try PipPathField.decode(c, .path, escaped: .pathEscaped)
        prefix = try PipPathField.decode(c, .prefix, escaped: .prefixEscaped)
        distributions = try c.decode([InstalledDistribution].self, forKey: .distributions)
        unowned = try c.decode([String].self, forKey: .unowned)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try PipPathField.encode(path, &c, .path, escaped: .pathEscaped)
        try PipPathField.encode(prefix, &c, .prefix, escaped: .prefixEscaped)
        try c.encode(distributions, forKey: .distributions)
        try c.encode(unowned, forKey: .unowned)
    }
}

/// Reads site-packages with drift's own parsers (no Python at run time).
public enum PipInventory {
    /// Inventory of `dir`; problems with single distributions go to `errors`, named by file.
    public static func read(_ dir: String) throws -> (SitePackagesInventory, [WalkIssue]) {
        try read(Array(dir.utf8))
    }

    /// `read(_:)` for a directory named by bytes (a name that is not UTF-8 too).
    public static func read(_ dir: [UInt8]) throws -> (SitePackagesInventory, [WalkIssue]) {
        try read(dir, limits: .standard, first: [])
    }

    /// `read(_:)` with the RECORD caps `limits`; the dist-infos named in `first` (the baked
    /// ones) are read before the others, so dists added since cannot spend the caps' totals
    /// before them.
    static func read(_ dir: [UInt8], limits: RecordLimits,
                     first: Set<String>) throws -> (SitePackagesInventory, [WalkIssue]) {
        guard let real = canonicalPath(dir) else {
            throw DriftError(.unreadable, path: dir, "site-packages directory not found")
        }
        var issues: [WalkIssue] = []
        // Bytecode caches are walked too: their pycs are no install's, but they are code.
        let (walked, walkIssues) = try DirectoryWalker(root: real).walk { _ in true }
        issues += walkIssues.map { WalkIssue(path: PathBytes.join(real, $0.path), message: $0.message) }
        let prefix = prefixOf(real)
        var dists: [InstalledDistribution] = []
        let top = walked.filter { !$0.path.contains(UInt8(ascii: "/")) }
        let isBaked = { (e: WalkEntry) in String(validating: e.path, as: UTF8.self).map(first.contains) ?? false }
        let reader = FileReader(root: real)
        var recordBudget = RecordBudget(limits)
        for e in top.filter(isBaked) + top.filter({ !isBaked($0) }) {
            // A distribution's directory is named by text (`<name>-<version>.dist-info`): a name
            // that is not UTF-8 is none, and is never decoded into another file's name.
            guard let name = String(validating: e.path, as: UTF8.self) else { continue }
            let full = PathBytes.join(real, e.path)
            do {
                if name.hasSuffix(".dist-info") && e.stat.kind == .directory {
                    dists.append(try readDistInfo(full, metadataDir: name, reader: reader, budget: &recordBudget))
                } else if name.hasSuffix(".egg-info") {
                    dists.append(try readEggInfo(full, metadataDir: name, isDirectory: e.stat.kind == .directory,
                                                 reader: reader))
                }
            } catch let err as DriftError {
                issues.append(WalkIssue(path: full, message: err.message))
            }
        }
        // Ownership: every RECORD path, normalised relative to site-packages.
        var owned = Set<String>()
        for d in dists {
            for f in d.files {
                if let n = normalize(f.path) { owned.insert(n) }
            }
        }
        var unowned: [String] = []
        var bytecode: [WalkEntry] = []
        for e in walked where e.stat.kind != .directory {
            if e.stat.kind == .regular && BytecodeCheck.parse(e.path) != nil { bytecode.append(e) }
            // A `__pycache__` pyc is checked against its source (`SitePycCheck`); a pyc
            // elsewhere is one Python imports with no source at all: unowned like any file.
            let comps = e.path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            if comps.dropLast().contains(where: { $0.elementsEqual("__pycache__".utf8) }) { continue }
            // RECORD lists text: a name that is not UTF-8 is owned by no distribution.
            guard let p = String(validating: e.path, as: UTF8.self) else {
                unowned.append(PathBytes.display(e.path))
                continue
            }
            if !owned.contains(p) { unowned.append(p) }
        }
        dists.sort { ($0.name, $0.version) < ($1.name, $1.version) }
        return (SitePackagesInventory(path: real, prefix: prefix, distributions: dists, unowned: unowned.sorted(),
                                      bytecode: bytecode), issues)
    }

    /// `<prefix>` of `<prefix>/lib/pythonX.Y/site-packages`, else site-packages itself.
    static func prefixOf(_ sp: [UInt8]) -> [UInt8] {
        let parts = sp.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        func named(_ k: Int, _ names: String...) -> Bool { names.contains { parts[k].elementsEqual($0.utf8) } }
        if parts.count >= 3, named(parts.count - 1, "site-packages", "dist-packages"),
           parts[parts.count - 2].starts(with: "python".utf8), named(parts.count - 3, "lib", "lib64") {
            return Array(parts.dropLast(3).joined(separator: [UInt8(ascii: "/")]))
        }
        return sp
    }

    /// A RECORD path relative to site-packages with `.`/`..` resolved; nil when it leaves
    /// site-packages (those are checked against the prefix separately).
    static func normalize(_ path: String) -> String? {
        resolveDots(path).flatMap { $0.isEmpty ? nil : $0.joined(separator: "/") }
    }

    /// The components of `path` with `.` and empty ones dropped and `..` applied; nil when
    /// a `..` would climb above the start.
    static func resolveDots(_ path: String) -> [Substring]? {
        var out: [Substring] = []
        for c in path.split(separator: "/") {
            if c == "." || c.isEmpty { continue }
            if c == ".." {
                if out.isEmpty { return nil }
                out.removeLast()
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// `resolveDots(_:)` over bytes (a RECORD path joined to a site-packages named by bytes).
    static func resolveDots(_ path: [UInt8]) -> [ArraySlice<UInt8>]? {
        var out: [ArraySlice<UInt8>] = []
        for c in path.split(separator: UInt8(ascii: "/")) {
            if c.elementsEqual(".".utf8) { continue }
            if c.elementsEqual("..".utf8) {
                if out.isEmpty { return nil }
                out.removeLast()
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// Reads `<site-packages>/<rel>` beneath site-packages (no symlink, no FIFO).
    private static func metadata(_ reader: FileReader, _ rel: String, limit: Int64) throws -> [UInt8] {
        do { return try reader.readAll(Array(rel.utf8), limit: limit) } catch let e as FileReadError {
            throw DriftError(.unreadable, path: PathBytes.join(reader.root, e.path), e.reason, underlying: e)
        }
    }

    /// An optional metadata file: nil only when it does not exist. One that is there must read
    /// (a symlink, FIFO, oversized or unreadable file is an error, never silently absent).
    private static func optionalMetadata(_ reader: FileReader, _ rel: String, limit: Int64) throws -> [UInt8]? {
        let path = PathBytes.join(reader.root, Array(rel.utf8))
        if FileSystem.isAbsent(path) { return nil }
        return try metadata(reader, rel, limit: limit)
    }

    static func readDistInfo(_ full: String, metadataDir: String, reader: FileReader) throws -> InstalledDistribution {
        var budget = RecordBudget()
        return try readDistInfo(Array(full.utf8), metadataDir: metadataDir, reader: reader, budget: &budget)
    }

    /// - Parameter budget: what this site-packages may still read of its RECORDs (all together).
    static func readDistInfo(_ full: [UInt8], metadataDir: String, reader: FileReader,
                             budget: inout RecordBudget) throws -> InstalledDistribution {
        let m = metadataDir + "/"
        let (name, version) = try CoreMetadata.nameAndVersion(try metadata(reader, m + "METADATA", limit: 8 << 20),
                                                               file: full.appending(text: "/METADATA"))
        guard !FileSystem.isAbsent(full.appending(text: "/RECORD")) else {
            throw DriftError(.pipInvalid, path: full, "distribution has no RECORD (its files cannot be verified)")
        }
        // One RECORD, and all of one site-packages' RECORDs together, are capped: a
        // million-line RECORD must not cost the box gigabytes on every scan.
        let files = try readRecord(full, metadataDir: metadataDir, reader: reader, budget: &budget)
        let installer = try optionalMetadata(reader, m + "INSTALLER", limit: 1 << 20).map {
            String(decoding: $0, as: UTF8.self).trimmingWhitespace()
        }
        var url: String?, editable = false
        if let du = try optionalMetadata(reader, m + "direct_url.json", limit: 1 << 20) {
            let direct: DirectURL
            do { direct = try JSONDecoder().decode(DirectURL.self, from: Data(du)) } catch {
                throw DriftError(.pipInvalid, path: full.appending(text: "/direct_url.json"),
                    "not a valid PEP 610 file: \(errorText(error))")
            }
            url = direct.url
            editable = direct.editable
        }
        return InstalledDistribution(name: normalizedDistributionName(name), version: version, installer: installer,
                                     metadataDir: metadataDir, url: url, editable: editable, files: files.entries,
                                     recordSHA256: files.sha256)
    }

    /// A dist-info's RECORD, within the caps: one over them is an error naming it.
    private static func readRecord(_ full: [UInt8], metadataDir: String, reader: FileReader,
                                   budget: inout RecordBudget) throws -> (entries: [RecordEntry], sha256: Digest) {
        let file = full.appending(text: "/RECORD")
        let caps = budget.limits
        let limit = min(caps.fileBytes, budget.bytes)
        let record: [UInt8]
        let rel = Array((metadataDir + "/RECORD").utf8)
        do { record = try reader.readAll(rel, limit: limit) } catch let e as FileReadError {
            if case .overLimit = e.cause {
                throw DriftError(.pipInvalid, path: file,
                    "over \(limit) bytes (one RECORD may hold \(caps.fileBytes), "
                    + "all RECORDs of a site-packages \(caps.totalBytes)); its files are not verified")
            }
            throw DriftError(.unreadable, path: PathBytes.join(reader.root, e.path), e.reason, underlying: e)
        }
        // What was read counts against the total even when refused: a scan reads at most the total.
        budget.bytes -= Int64(record.count)
        let most = min(caps.fileEntries, budget.entries)
        // A RECORD over the cap is refused by a count of its lines where it can be, not a parse.
        let plain = RecordFile.plainRowCount(record)
        let files = plain.map { $0 > most } == true ? [] : try RecordFile.parse(record, file: file, maxEntries: most)
        guard files.count <= most, plain.map({ $0 > most }) != true else {
            throw DriftError(.pipInvalid, path: file,
                "over \(most) entries (one RECORD may list \(caps.fileEntries), "
                + "all RECORDs of a site-packages \(caps.totalEntries)); its files are not verified")
        }
        budget.entries -= files.count
        return (files, try SHA256Hasher.digest(record))
    }

    static func readEggInfo(_ full: String, metadataDir: String, isDirectory: Bool,
                            reader: FileReader) throws -> InstalledDistribution {
        try readEggInfo(Array(full.utf8), metadataDir: metadataDir, isDirectory: isDirectory, reader: reader)
    }

    static func readEggInfo(_ full: [UInt8], metadataDir: String, isDirectory: Bool,
                            reader: FileReader) throws -> InstalledDistribution {
        let pkgInfo = isDirectory ? full.appending(text: "/PKG-INFO") : full
        let pkgRel = isDirectory ? metadataDir + "/PKG-INFO" : metadataDir
        let (name, version) = try CoreMetadata.nameAndVersion(try metadata(reader, pkgRel, limit: 8 << 20),
                                                              file: pkgInfo)
        var files: [RecordEntry] = []
        if isDirectory, let list = try optionalMetadata(reader, metadataDir + "/installed-files.txt",
                                                        limit: 64 << 20) {
            // Paths relative to the egg-info directory; no hashes in this legacy format.
            for l in String(decoding: list, as: UTF8.self).split(separator: "\n") where !l.isEmpty {
                files.append(RecordEntry(path: metadataDir + "/" + l, sha256: nil, size: nil))
            }
        }
        return InstalledDistribution(name: normalizedDistributionName(name), version: version, installer: nil,
                                     metadataDir: metadataDir, url: nil, editable: false, files: files)
    }
}

/// PEP 610 `direct_url.json`: only `url` and `dir_info.editable` matter; either of a wrong type
/// is an error (site-packages is the workspace's, untrusted: nothing there reads as absent).
private struct DirectURL: Decodable {
    let url: String?
    let editable: Bool
    private enum Keys: String, CodingKey {
        case url
        case dirInfo = "dir_info"
        case editable
    }
    init(from d: Decoder) throws {
        let c = try d.container(keyedBy: Keys.self)
        url = try c.decodeIfPresent(String.self, forKey: .url)
        guard c.contains(.dirInfo) else {
            editable = false
            return
        }
        let info = try c.nestedContainer(keyedBy: Keys.self, forKey: .dirInfo)
        editable = try info.decodeIfPresent(Bool.self, forKey: .editable) ?? false
    }
}
