import Foundation

/// Compares the root with the manifest and returns every drifted path.
public struct Scanner {
    public var manifest: Manifest
    public var policy: Policy
    public var root: [UInt8]
    /// Previous cache; nil (or `full`) rehashes everything.
    public var cache: StatCache?
    public var workers: Int = ParallelHasher.defaultWorkers

    public init(manifest: Manifest, policy: Policy, root: [UInt8], cache: StatCache?) {
        self.manifest = manifest
        self.policy = policy
        self.root = root
        self.cache = cache
    }

    public struct Result: Sendable {
        /// Sorted by path bytes; `firstSeen` is the scan time (the state layer keeps older ones).
        public var changes: [FileChange]
        public var issues: [ScanIssue]
        public var newCache: StatCache
        public var filesChecked: Int
        public var filesHashed: Int
    }

    public func run(now: Date = Timestamp.now()) throws -> Result {
        let classifier = Classifier(policy: policy)
        let walk = try TreeWalk.run(root: root, classifier: classifier)
        let reader = FileReader(root: root)
        var byPath: [[UInt8]: Int] = [:]
        byPath.reserveCapacity(manifest.entries.count)
        for (i, e) in manifest.entries.enumerated() { byPath[e.path] = i }
        var seen = [Bool](repeating: false, count: manifest.entries.count)

        var changes: [FileChange] = []
        var issues = walk.issues
        var newCache = StatCache()
        newCache.entries.reserveCapacity(manifest.entries.count)
        let hashedAt = Int64(Date().timeIntervalSince1970 * 1e9)
        // Regular files whose content must be read: (walk index, manifest index or nil).
        var toHash: [(Int, Int?)] = []
        var filesChecked = 0

        func state(_ m: ManifestEntry) -> EntryState {
            EntryState(kind: m.kind, executable: m.executable, size: m.size, digest: m.digest, target: m.target)
        }
        func add(_ e: ClassifiedEntry, _ kind: ChangeKind, old: EntryState?, new: EntryState?, unstable: Bool = false) {
            changes.append(FileChange(path: e.path, change: kind, fileClass: e.fileClass, secret: e.secret,
                                      old: old, new: new, firstSeen: now, unstable: unstable))
        }

        for (wi, e) in walk.entries.enumerated() {
            let mi = byPath[e.path]
            if let mi { seen[mi] = true }
            let st = e.stat
            switch st.kind {
            case .directory:
                if let mi {
                    add(e, .type, old: state(manifest.entries[mi]), new: EntryState(kind: .directory, executable: false, size: 0))
                }
            case .special:
                let new = EntryState(kind: .special, executable: false, size: st.size)
                if let mi { add(e, .type, old: state(manifest.entries[mi]), new: new) } else { add(e, .added, old: nil, new: new) }
            case .symlink:
                filesChecked += 1
                let target: [UInt8]
                do { target = try reader.readLink(e.path) } catch {
                    issues.append(ScanIssue(path: e.path, message: "\(error)"))
                    continue
                }
                let d = try SHA256Hasher.digest(target)
                let new = EntryState(kind: .symlink, executable: false, size: Int64(target.count), digest: d, target: target)
                if let mi {
                    let m = manifest.entries[mi]
                    if m.kind != .symlink { add(e, .type, old: state(m), new: new) } else if m.target != target { add(e, .modified, old: state(m), new: new) }
                } else {
                    add(e, .added, old: nil, new: new)
                }
            case .regular:
                filesChecked += 1
                if let mi, manifest.entries[mi].kind == .regular, manifest.entries[mi].size != st.size {
                    // Size differs: drift for sure, but the journal and diff need the new hash.
                    toHash.append((wi, mi))
                } else if let d = cache?.digest(for: e.path, st) {
                    newCache.entries[e.path] = cache?.entries[e.path]
                    compareFile(e, mi, d, st, unstable: false, add: add, state: state)
                } else {
                    toHash.append((wi, mi))
                }
            }
        }

        let outcomes = ParallelHasher.hash(toHash.map { walk.entries[$0.0].path }, reader: reader, workers: workers)
        for (k, (wi, mi)) in toHash.enumerated() {
            let e = walk.entries[wi]
            switch outcomes[k] {
            case .failed(let msg):
                issues.append(ScanIssue(path: e.path, message: msg))
                if let mi { seen[mi] = true }
            case .hashed(let d, let st, let stable):
                if stable { newCache.record(e.path, st, d, hashedAtNs: hashedAt) }
                var e2 = e
                e2.stat = st
                compareFile(e2, mi, d, st, unstable: !stable, add: add, state: state)
            }
        }

        // Manifest entries not found are deleted, unless their directory could not be read.
        for (i, m) in manifest.entries.enumerated() where !seen[i] {
            if walk.unreadableDirectories.contains(where: { PathBytes.isWithin(m.path, $0) }) { continue }
            changes.append(FileChange(path: m.path, change: .deleted,
                                      fileClass: classifier.classify(m.path), secret: classifier.isSecret(m.path),
                                      old: state(m), new: nil, firstSeen: now))
        }
        changes.sort { PathBytes.less($0.path, $1.path) }
        issues.sort { PathBytes.less($0.path, $1.path) }
        return Result(changes: changes, issues: issues, newCache: newCache,
                      filesChecked: filesChecked, filesHashed: toHash.count)
    }

    private func compareFile(_ e: ClassifiedEntry, _ mi: Int?, _ d: Digest, _ st: FileStat, unstable: Bool,
                             add: (ClassifiedEntry, ChangeKind, EntryState?, EntryState?, Bool) -> Void,
                             state: (ManifestEntry) -> EntryState) {
        let new = EntryState(kind: .regular, executable: st.isExecutable, size: st.size, digest: d)
        guard let mi else {
            add(e, .added, nil, new, unstable)
            return
        }
        let m = manifest.entries[mi]
        if m.kind != .regular {
            add(e, .type, state(m), new, unstable)
        } else if m.digest != d || m.size != st.size {
            add(e, .modified, state(m), new, unstable)
        } else if m.executable != st.isExecutable {
            add(e, .mode, state(m), new, unstable)
        }
    }
}
