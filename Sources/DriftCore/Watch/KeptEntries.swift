import DriftSystem

/// The walk entries `drift watch` keeps between scans: secret-class files (they decide what is
/// secret content) and drifted paths (their inodes find hard links to secrets). Everything
/// else a full walk saw is dropped: on a 50,000-file tree that walk is megabytes.
struct KeptEntries {
    private var byPath: [[UInt8]: ClassifiedEntry] = [:]

    init() {}

    init(_ entries: [ClassifiedEntry], drifted: [FileChange]) {
        let d = Set(drifted.map(\.path))
        for e in entries where e.secret || d.contains(e.path) { byPath[e.path] = e }
    }

    var entries: [ClassifiedEntry] { Array(byPath.values) }

    /// The kept entries with the scope's replaced by what its rescan saw (nothing is stored).
    func replacing(_ scope: ScanScope, with scanned: [ClassifiedEntry]) -> [ClassifiedEntry] {
        byPath.values.filter { !scope.contains($0.path) } + scanned
    }

    /// After a batch is recorded: the scope's entries replaced, then only what is kept.
    mutating func update(_ scope: ScanScope, with scanned: [ClassifiedEntry], drifted: [FileChange]) {
        let d = Set(drifted.map(\.path))
        byPath = byPath.filter { !scope.contains($0.key) && ($0.value.secret || d.contains($0.key)) }
        for e in scanned where e.secret || d.contains(e.path) { byPath[e.path] = e }
    }
}
