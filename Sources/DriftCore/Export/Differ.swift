import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `drift diff`: the code drift as a git patch against the base commit, built from the
/// scan's list of changed paths (blobs for those paths only, then tree-to-tree diff).
public struct Differ {
    public var runner: ScanRunner
    /// Only paths equal to or below these (empty: all).
    public var filters: [[UInt8]] = []

    public init(runner: ScanRunner) { self.runner = runner }

    /// A path argument as a filter: relative to the root, without `./` prefixes or trailing `/`.
    /// - Parameter path: the argument's bytes.
    /// - Returns: the path `filters` compares with.
    public static func filter(_ path: [UInt8]) -> [UInt8] {
        var b = path[...]
        while b.count > 1 && b.last == UInt8(ascii: "/") { b.removeLast() }
        while b.starts(with: [UInt8(ascii: "."), UInt8(ascii: "/")]) { b.removeFirst(2) }
        return b == [UInt8(ascii: ".")] ? [] : Array(b)
    }

    public struct Output {
        /// `# drift:` lines for withheld config, data and secret changes (ignored by `git apply`).
        public var header: String
        public var patch: [UInt8]
        public var hasDrift: Bool
    }

    /// Scans and renders the code drift as a git patch against the base commit.
    /// - Returns: `# drift:` header lines for withheld changes, the patch, and whether any
    ///   drift was found.
    /// - Throws: `DriftError`, `DriftError` `.lockBusy` or `GitError` as a scan does.
    public func run() throws -> Output {
        let filters = try checkFilters()
        let outcome = try runner.run()
        var changes = outcome.result.changes
        var pip = outcome.pip
        if !filters.isEmpty {
            changes = changes.filter { c in filters.contains { PathBytes.isWithin(c.path, $0) } }
            // Pip drift shows as the requirements file's diff: only when a filter covers that file.
            let req = outcome.requirements
            if req.map({ r in !filters.contains { PathBytes.isWithin(r, $0) } }) ?? true { pip = [] }
        }
        let repo = try BaseObjects.open(runner.manifestDir, commit: outcome.manifest.commit)
        try repo.writeObjectsToMemory()
        guard let base = ObjectID(hex: outcome.manifest.commit) else {
            throw DriftError(.manifestInvalid, "bad base commit id")
        }
        var builder = DriftTreeBuilder(repo: repo, baseCommit: base, reader: FileReader(root: outcome.rootBytes),
                                       sizeLimit: .max)
        builder.secrets = outcome.secrets
        let built = try builder.build(changes, pip: pip, requirements: outcome.requirements,
                                      contents: outcome.result.contents)
        var header = ""
        // Every drifted file withheld for a missing secret source: the source is named once, and
        // each line says "secret source missing" rather than "secret files unreadable" (F11).
        let unchecked = outcome.secrets.withholdingShort
        let allWithheld = built.withheld.contains { $0.1 == .secretsUnreadable }
        if let cause = outcome.secrets.withholdingCause, allWithheld {
            header += "# drift: content of every drifted file withheld: \(cause)\n"
        }
        // Data hash lines fold by directory past a threshold; they follow the per-path lines (F2).
        var fold = DiffNoteFold()
        for (c, reason) in built.withheld {
            let p = PathBytes.display(c.path)
            let carriesSecret = c.secret || reason.hidesHash
            if carriesSecret || c.fileClass == .config {
                let why = carriesSecret ? (reason == .secretsUnreadable ? unchecked ?? reason.text : reason.text)
                    : "config"
                header += "# drift: \(p): \(c.change.rawValue), content withheld (\(why))\n"
            } else {
                // Code withheld for a reason of its own (size, a moving or unreadable file) says which.
                let own = reason == .notCode(c.fileClass) ? "" : " (\(reason.text))"
                // A file over the read limit was not read: its new digest is a fingerprint, not SHA-256.
                let new = c.overReadLimit ? "fingerprint \(c.new?.digest?.hex ?? "-") (over the read limit, not read)"
                    : c.new?.digest?.hex ?? "-"
                let line = "# drift: \(p): \(c.change.rawValue) (\(c.fileClass.rawValue)) " +
                    "sha256 \(c.old?.digest?.hex ?? "-") -> \(new)\(own)\n"
                if c.fileClass == .code {
                    header += line
                } else {
                    fold.add(c, line: line)
                }
            }
        }
        header += fold.render()
        let patch = try repo.diffTrees(built.baseTree, built.tree)
        return Output(header: header, patch: patch, hasDrift: !changes.isEmpty || pip.contains { !$0.allowed })
    }

    /// Refuses, before anything is scanned or written, a PATH that names nothing: not a
    /// manifest entry, no directory of entries, nothing under the root. PATH is relative to
    /// the root, or absolute under it (as `git diff` takes a path in its work tree); one with
    /// `..` or absolute elsewhere names nothing.
    /// - Returns: the filters, each relative to the root.
    func checkFilters() throws -> [[UInt8]] {
        if filters.isEmpty { return [] }
        let (manifest, _) = try runner.manifestDir.load()
        let root = runner.root ?? manifest.root
        let rootDir = RootDirectory(path: root)
        let entries = manifest.entries
        // The root as given and as the kernel resolves it (a relative --root, a symlinked path).
        let spellings = [root] + (canonicalPath(root).map { [$0] } ?? [])
        var out: [[UInt8]] = []
        for given in filters {
            // As given first (a symlink inside the root stays itself), then resolved like the root.
            let resolved = given.first == UInt8(ascii: "/")
                ? canonicalPath(given) : nil
            let f = spellings.lazy.compactMap { Self.relative(given, to: $0) }.first
                ?? resolved.flatMap { r in spellings.lazy.compactMap { Self.relative(r, to: $0) }.first }
                ?? given
            out.append(f)
            if f.isEmpty { continue }
            let parts = f.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            let known: Bool
            if f.first == UInt8(ascii: "/") || parts.contains(where: { $0.isEmpty || $0.elementsEqual("..".utf8) }) {
                known = false
            } else if entries.index(of: f) != nil {
                known = true
            } else {
                let below = entries.lowerBound(f + [UInt8(ascii: "/")])
                if below < entries.count && PathBytes.isWithin(entries.path(below), f) {
                    known = true
                } else if case .success = rootDir.lstat(f) {
                    known = true
                } else {
                    known = false
                }
            }
            if !known {
                throw DriftError(.usage, path: given, "not a path of the manifest or the workspace "
                    + "\(PathBytes.display(root)) (PATH is relative to the root, or absolute under it)")
            }
        }
        return out
    }

    /// An absolute PATH under `root` (the root as given or as the manifest recorded it),
    /// relative to it: `ROOT/worker/x.py` is `worker/x.py`, `ROOT` itself the whole root.
    /// Textual, as the root's own spelling: nil for a relative PATH or one outside the root.
    static func relative(_ path: [UInt8], to root: [UInt8]) -> [UInt8]? {
        let slash = UInt8(ascii: "/")
        guard path.first == slash else { return nil }
        var r = root[...]
        while r.count > 1 && r.last == slash { r.removeLast() }
        if path.elementsEqual(r) { return [] }
        let prefix = r.last == slash ? Array(r) : Array(r) + [slash]
        guard path.starts(with: prefix) else { return nil }
        return filter(Array(path.dropFirst(prefix.count)))
    }

    /// Colours a patch like `git diff` does, for a terminal.
    public static func colorize(_ patch: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for line in patch.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let code: String?
            switch line.first {
            case UInt8(ascii: "+") where !line.starts(with: Array("+++".utf8)): code = "32"
            case UInt8(ascii: "-") where !line.starts(with: Array("---".utf8)): code = "31"
            case UInt8(ascii: "@"): code = "36"
            case UInt8(ascii: "d") where line.starts(with: Array("diff --git".utf8)): code = "1"
            default: code = nil
            }
            if let code { out += Array("\u{1B}[\(code)m".utf8) + line + Array("\u{1B}[0m".utf8) } else { out += line }
            out.append(0x0A)
        }
        if !out.isEmpty { out.removeLast() }
        return out
    }
}
