import DriftGit
import DriftSystem

/// What the secret-class files of a workspace and its manifest look like, so code that
/// carries a secret's content is withheld like the secret itself (reason `secret content`).
///
/// Code content is a secret's when it is a hard link to a secret-class file (same device
/// and inode), has the SHA-256 of one (baked or current) or of a secret value, contains a
/// secret value, or contains a credential of a known format (`SecretFormats`). Secret values
/// come from the secret files (dotenv as python-dotenv reads it, PEM bodies, JSON key fields:
/// `SecretFileValues`) and from environment variables with secret names (`SecretEnvironment`),
/// held in memory only. Rules in docs/secrets.md.
public struct SecretIndex: Sendable {
    /// Secret files larger than this are matched by inode and hash only.
    static let maxSecretFileBytes: Int64 = 1 << 20
    /// Data files up to this size are searched for secret values and known formats like code
    /// (their hash would otherwise be a guess oracle for the credential they hold).
    static let maxSearchedDataBytes: Int64 = 4096

    struct Inode: Hashable { var device: UInt64, inode: UInt64 }
    var inodes = Set<Inode>()
    var digests = Set<Digest>()
    var values: [[UInt8]] = []
    /// `values` searched in one pass (`NeedleSet`).
    var valueSearch = NeedleSet([])
    /// Values `drift forget --release` let go of, known by their traces only: content holding
    /// one is a secret's still (`ReleasedSearch`; incident 12, F12).
    var released = ReleasedSearch()
    /// How many secret sources there are: secret-class files plus secret-named variables.
    public private(set) var sourceCount = 0
    /// Secret files whose values could not be read: while any is listed, no code content can
    /// be shown free of them, so all of it is withheld (`secret files unreadable`) and retried.
    public private(set) var unreadable: [FileReadError] = []
    /// Secret-named variables of the container's main process that earlier runs read and this
    /// one cannot (`SecretSourceMemory`): like an unreadable secret file, while any is listed
    /// no code content can be shown free of them, so all of it is withheld and retried.
    public private(set) var missingSources: [[UInt8]] = []
    /// Variables (of any origin) whose values a `drift forget` purged, a run learned after
    /// content was journaled or found in drifted content, that this run's environment lacks
    /// (`forgotten_sources`): the same rule, so content journaled or shown without them cannot
    /// bring a purged value back.
    public private(set) var missingForgotten: [[UInt8]] = []
    /// Where a variable of `missingForgotten` is now, by name (`noteOrigins`): for messages only.
    var forgottenOrigins: [[UInt8]: SecretEnvironment.Origin] = [:]
    /// How many distinct secret values are known (before their encodings): a count only, so a
    /// later run can tell it learned more (`secret_values` in `state.json`) without an oracle.
    public private(set) var valueCount = 0
    /// The distinct secret values before their encodings, each with the first source that
    /// holds it (a variable's name or a secret file's path: for messages only). What a
    /// `drift forget` remembers salted digests of (`ForgottenValues`).
    private(set) var sourceValues: [(name: [UInt8], value: [UInt8])] = []
    /// Values of secret files baked into the image and unchanged (the manifest's digest): the
    /// base commit holds them, so the repository every export goes to has them already, and
    /// they are not remembered (`rememberedValues`; incident 11, F3: the repository's own test
    /// keys were listed as remembered sources).
    private var bakedValues = Set<[UInt8]>()
    /// The SHA-256 of each source value (and of it with a newline) → its index in `sourceValues`:
    /// content that is a value whole is known by its hash, without a read (`SecretHeldValues`).
    private var valueDigests: [Digest: Int] = [:]
    /// The source values (not baked) that this run's drifted content holds (`flag`): remembered
    /// whatever was journaled before (`ScanRunner.record`; incident 12 attack, finding #1).
    var contentValues: [(name: [UInt8], value: [UInt8])] = []
    /// The missing sources were not made the scan's errors: no drifted content was withheld
    /// for them (`ScanRunner.flagSecrets`), so the run is complete and notes them (`absentNote`).
    public internal(set) var absentNoted = false

    public init() {}

    /// From the walk (current secret files), the manifest (baked digests) and the changes
    /// (digests before and after); values are read from the current secret files.
    /// - Throws: `DriftError` when no SHA-256 context can be made (a secret file that cannot
    ///   be read is not an error here: it is listed in `unreadable`).
    public init(walk: TreeWalk, manifest: Manifest, changes: [FileChange], reader: FileReader,
                environment: SecretEnvironment = SecretEnvironment(), names: PatternList = Policy.defaultSecretNames)
        throws {
        let hasher = try SHA256Hasher()
        var env: [[UInt8]: [UInt8]] = [:]
        for v in environment.variables where env[v.name] == nil { env[v.name] = v.value }
        var named = environment.namedSecretValues(names: names)
        sourceCount = environment.secretNamedCount(names: names)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        for e in walk.entries where e.secret && e.stat.kind == .regular {
            sourceCount += 1
            inodes.insert(Inode(device: e.stat.device, inode: e.stat.inode))
            let baked = Self.manifestEntry(manifest.entries, e.path).flatMap { $0.kind == .regular ? $0.digest : nil }
            if let baked { digests.insert(baked) }
            if e.stat.size <= Self.maxSecretFileBytes {
                do {
                    // A secret being rewritten in place can read short or empty: its values are
                    // then unknown, not absent.
                    let c = try reader.read(e.path, with: hasher, buffer: buffer, keepUpTo: Self.maxSecretFileBytes)
                    guard c.stable, c.stat.size == e.stat.size, let bytes = c.bytes else {
                        throw FileReadError(e.path, .changedWhileRead)
                    }
                    digests.insert(c.digest)
                    let found = SecretFileValues.values(bytes, environment: env)
                    if c.digest == baked { bakedValues.formUnion(found) }
                    named += found.map { (e.path, $0) }
                } catch let err as FileReadError {
                    unreadable.append(err)
                }
            }
        }
        for c in changes where c.secret && !c.secretContent {
            for s in [c.old, c.new] where s?.kind == .regular {
                if let d = s?.digest { digests.insert(d) }
            }
        }
        var seen = Set<[UInt8]>()
        sourceValues = named.filter { seen.insert($0.value).inserted }
        values = sourceValues.map(\.value)
        valueCount = values.count
        // A data or config file whose whole content is a value would leave the value's hash.
        for (i, v) in values.enumerated() {
            for d in [try SHA256Hasher.digest(v), try SHA256Hasher.digest(v + [0x0A])] {
                digests.insert(d)
                if valueDigests[d] == nil { valueDigests[d] = i }
            }
        }
        values = Array(Set(values.flatMap(Self.forms))).sorted { $0.count > $1.count }
        valueSearch = NeedleSet(values)
    }

    /// A value and the forms that are the same secret: base64-, hex- or UTF-16-encoded, cut in
    /// two, escaped in a string literal, or percent-encoded in a URL.
    static func forms(_ v: [UInt8]) -> [[UInt8]] {
        [v] + SecretEncodings.of(v) + SecretEncodings.windows(v) + SecretEncodings.escaped(v)
            + SecretEncodings.percent(v)
    }

    /// The values a run remembers (`ForgottenValues`): `sourceValues` but those of baked,
    /// unchanged secret files.
    var rememberedValues: [(name: [UInt8], value: [UInt8])] {
        bakedValues.isEmpty ? sourceValues : sourceValues.filter { !bakedValues.contains($0.value) }
    }

    /// Whether there are no secret sources at all (known formats are still recognised).
    public var isEmpty: Bool {
        inodes.isEmpty && digests.isEmpty && values.isEmpty && unreadable.isEmpty && missingSources.isEmpty
            && missingForgotten.isEmpty && released.isEmpty
    }

    /// Whether code content can be checked against every secret file's and source's values.
    var complete: Bool { unreadable.isEmpty && missingSources.isEmpty && missingForgotten.isEmpty }

    /// Marks secret sources as known to exist but unreadable now (`missingSources`).
    /// - Parameter names: the variables' names (sorted by the caller).
    mutating func missing(_ names: [[UInt8]], forgotten: [[UInt8]] = []) {
        missingSources = names
        missingForgotten = forgotten
        // A source known to exist is one: "no secret sources" would be false while it withholds.
        sourceCount += names.count + forgotten.count
    }

    /// One scan issue per secret file or source that could not be read, saying what it costs.
    /// `environ`: where the main process's variables were read (the issue's path).
    public func issues(environ: [UInt8]) -> [WalkIssue] {
        let files = unreadable.map { e in
            WalkIssue(path: e.path, message: "\(e.reason): this secret file could not be read to check drift "
                + "for its values, so content and hashes of drifted files are withheld until it can")
        }
        let sources = missingSources.map { name in
            WalkIssue(path: environ, message: "\(PathBytes.display(name)), a secret-named variable of the "
                + "container's main process on earlier runs, is not there now (drift runs outside the "
                + "container's PID namespace, or without root), so content and hashes of drifted files are "
                + "withheld until it is (docs/secrets.md, \"Secret sources remembered\")")
        }
        // A file source is named by its path, a variable by the main process's environ (incident
        // 11, F9: a `.env` of the workspace was reported as `/proc/1/environ`).
        let forgotten = missingForgotten.map { name in
            let file = !SecretIndex.isVariableName(name)
            return WalkIssue(path: file ? name : environ, message: (file ? "" : "\(PathBytes.display(name)): ")
                + "a secret value it held when an earlier run remembered it (found in drifted content, learned after "
                + "content was journaled, or purged by drift forget) "
                + "is not in this run's environment or secret files (under any name), so content and hashes of "
                + "drifted files are withheld until it is; if it will not come back (rotated, removed), run "
                + "`drift forget --release \(PathBytes.display(name))` "
                + "(docs/secrets.md, \"Forgotten sources remembered\")")
        }
        return files + sources + forgotten
    }

    /// Marks changes whose current content is a secret's: `secret` and `secretContent`
    /// set, so every later step withholds them and reports no hash.
    /// `contents` are bytes the scan already read (not read again).
    /// `verdicts`: a watcher's verdicts of earlier batches (content not read again).
    /// - Returns: the source values the flagged content holds (`contentValues`). A verdict taken
    ///   from `verdicts` is not read again: the batch that made it read the bytes, noted their
    ///   values and remembered them (the verdicts are a watcher's, in memory only, and dropped
    ///   when the index changes), so nothing is lost.
    @discardableResult
    public func flag(_ changes: inout [FileChange], walk: TreeWalk, reader: FileReader, sizeLimit: Int64,
                     contents: [[UInt8]: [UInt8]] = [:], verdicts: SecretVerdicts? = nil)
        -> [(name: [UInt8], value: [UInt8])] {
        flag(&changes, walk: walk, reader: reader, sizeLimit: sizeLimit, contents: contents, verdicts: verdicts,
             splice: nil, generation: nil).values
    }

    /// `flag`, told by a watcher's batch what changed since the list its `verdicts` last judged
    /// (`ChangeSplice`): with the same index and no hard link to a secret to look for, only the
    /// hunks are judged (every other change carries the verdict this index gave it; its values,
    /// if any, were noted and remembered when its bytes were read, as with a cached verdict). A
    /// file rewritten since its scan is judged by its next batch, and the journal checks the
    /// very bytes it records either way.
    /// - Returns: the values, and the positions outside the splice's hunks whose verdict changed
    ///   (every later step redoes those: `ChangeSplice.marking`).
    func flag(_ changes: inout [FileChange], walk: TreeWalk, reader: FileReader, sizeLimit: Int64,
              contents: [[UInt8]: [UInt8]], verdicts: SecretVerdicts?, splice: ChangeSplice?,
              generation: UInt64?) -> (values: [(name: [UInt8], value: [UInt8])], rejudged: [Int]) {
        var held = SecretHeldValues(sourceValues, skipping: bakedValues)
        let judgedBefore = verdicts?.begin(self)
        defer { verdicts?.end() }
        let scoped = splice.flatMap { s in s.from == judgedBefore && inodes.isEmpty ? s : nil }
        if scoped != nil { verdicts?.keepingAll() }
        // The positions to judge: a splice's hunks, or all.
        let ranges = scoped.map { $0.hunks.map(\.new) } ?? [changes.indices]
        // A content verdict is this run's alone: a list flagged by an earlier record (a watcher
        // hands its recorded list back) is judged again, a secret gone is cleared.
        var cleared: [(Int, Secrecy)] = []
        for r in ranges {
            for i in r where changes[i].secrecy == .content || changes[i].secrecy == .unchecked {
                cleared.append((i, changes[i].secrecy))
                changes[i].secrecy = .none
            }
        }
        // The changed paths that are hard links to a secret file. The inode test comes first:
        // hashing every walked path into a set cost ~50 ms a scan at 200,000 files, and there
        // are few secret inodes (often none). The walk's entries are not always sorted.
        var linked = Set<[UInt8]>()
        if !inodes.isEmpty {
            let wanted = Set(changes.lazy.filter { !$0.secret && $0.new?.kind == .regular }.map(\.path))
            for e in walk.entries where e.stat.kind == .regular && !e.secret
                && inodes.contains(Inode(device: e.stat.device, inode: e.stat.inode)) && wanted.contains(e.path) {
                linked.insert(e.path)
            }
        }
        // The verdict last looked up: drifted files in a row often share content and scope (a
        // directory of empty model shards), and a verdict looked up again is the same one.
        var last: (digest: Digest, scope: SecretScope, hit: Bool)?
        for i in ranges.joined() where !changes[i].secret {
            guard let new = changes[i].new else { continue }
            // A secret file that could not be read may hold anything: no content or hash of
            // a file or link target may leave until it can be (the scan's errors say why).
            if !complete, new.kind == .regular || new.kind == .symlink {
                changes[i].secrecy = .unchecked
                continue
            }
            let carries = DriftTreeBuilder.carriesContent(changes[i])
            if new.kind == .symlink {
                // A code symlink's target is content too (it leaves in the tree and the patch).
                if carries, let target = new.target, matches(target, scope: SecretScope(path: changes[i].path)) {
                    changes[i].secrecy = .content
                }
                continue
            }
            guard new.kind == .regular else { continue }
            // Both sets are often empty: not a hash per drifted path then.
            var hit = !linked.isEmpty && linked.contains(changes[i].path)
            if let d = new.digest, !digests.isEmpty, digests.contains(d) {
                hit = true
                if let v = valueDigests[d] { held.note(index: v) }
            }
            // Data and config leave as names and hashes only: a copy or link of a secret would
            // leave the secret's own hash (an oracle for a short secret), so those two tests
            // apply to every class; the value and format search is for content that leaves
            // whole (code) and for config, whose hash then leaves neither.
            // A file unreadable here is read again by DriftTreeBuilder, which checks the very
            // bytes it records (and withholds what it cannot read): nothing leaves unchecked.
            // A small data file leaves its hash, which for a file that is little more than a
            // credential (a token saved as `token.txt`) is a guess oracle: search it too.
            let smallData = changes[i].fileClass == .data && new.size <= Self.maxSearchedDataBytes
            let searched = carries || ((changes[i].fileClass == .config || smallData) && !changes[i].secret)
            if !hit, searched, new.size <= sizeLimit {
                // Bytes that cannot be read now cannot be cleared: their hash is withheld too.
                let scope = SecretScope(path: changes[i].path)
                if let d = new.digest, let l = last, l.digest == d, l.scope == scope {
                    hit = l.hit
                } else if let d = new.digest, let known = verdicts?.verdict(d, scope) {
                    hit = known
                    last = (d, scope, known)
                } else if let bytes = contents[changes[i].path]
                            ?? (try? reader.readAll(changes[i].path, limit: sizeLimit)) {
                    hit = matches(bytes, scope: scope)
                    if hit, valueSearch.isFound(in: bytes) { held.note(bytes) }
                    if let verdicts, let d = new.digest, (try? SHA256Hasher.digest(bytes)) == d {
                        verdicts.remember(d, scope, hit)
                    }
                } else {
                    hit = true
                }
            }
            if hit {
                changes[i].secrecy = .content
            }
        }
        verdicts?.finished(generation)
        // Verdicts cleared and not given again, or given anew: few (often none), found from
        // what was cleared and the flagged positions, not by comparing every change.
        var rejudged: [Int] = []
        if scoped == nil && splice != nil {
            var was: [Int: Secrecy] = [:]
            for (i, s) in cleared { was[i] = s }
            for (i, s) in was where changes[i].secrecy != s { rejudged.append(i) }
            for i in changes.indices where changes[i].secrecy == .content || changes[i].secrecy == .unchecked {
                if was[i] == nil { rejudged.append(i) }
            }
        }
        return (held.values, rejudged)
    }

    /// Whether these bytes (about to leave the box as code) are, or contain, a secret; `scope`
    /// says whether they are a test fixture's (the generic assignment rule does not fire there).
    func matches(_ bytes: [UInt8], scope: SecretScope) -> Bool {
        if SecretFormats.find(bytes, scope: scope) != nil { return true }
        return matchesValues(bytes)
    }

    /// Whether these bytes are a secret's (hash) or contain a secret value or an encoding of one.
    func matchesValues(_ bytes: [UInt8]) -> Bool {
        matchesDigest(bytes) || (!isEmpty && (valueSearch.isFound(in: bytes) || released.isFound(in: bytes)))
    }

    /// `matches` but for the value search, for a caller that searched the values (live and
    /// released) already (`OutgoingSecrets.holds(text:)`).
    func matchesBesideValues(_ bytes: [UInt8], scope: SecretScope) -> Bool {
        SecretFormats.find(bytes, scope: scope) != nil || matchesDigest(bytes)
    }

    /// Whether these bytes are a secret's by their hash.
    private func matchesDigest(_ bytes: [UInt8]) -> Bool {
        if isEmpty { return false }
        // A hash that cannot be computed proves nothing: treat the bytes as a secret's.
        guard let d = try? SHA256Hasher.digest(bytes) else { return true }
        return digests.contains(d)
    }

    static func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        if needle.isEmpty || hay.count < needle.count { return false }
        // memmem is a GNU extension Swift's Glibc module does not export: first byte, then memcmp.
        let first = needle[0]
        return hay.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                guard let hb = h.baseAddress, let nb = n.baseAddress else { return false }
                var i = 0
                while i <= h.count - n.count {
                    if hb[i] == first && compareMemory(hb + i, nb, n.count) == 0 { return true }
                    i += 1
                }
                return false
            }
        }
    }

    private static func manifestEntry(_ entries: ManifestTable, _ path: [UInt8]) -> ManifestEntry? {
        entries.index(of: path).map { entries[$0] }
    }
}
