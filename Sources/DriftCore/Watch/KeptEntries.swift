import DriftSystem

/// The walk entries `drift watch` keeps between scans, as much of them as the secret check
/// (`SecretIndex`) reads: secret-class entries whole (they decide what is secret content), and
/// of each drifted regular file that is not secret-class its path and inode (a hard link to a
/// secret file is found by inode). Everything else a full walk saw is dropped.
///
/// The secret check reads a non-secret entry only when it is a regular file whose inode is a
/// secret-class regular file's of the same walk, and then only its path and inode: so the walk
/// `replacing` hands it holds those alone, and the check flags exactly what it flagged with
/// every kept entry whole. Issue 28: at a million drifted files a dictionary of whole entries
/// (rebuilt into arrays twice a batch) cost ~250 bytes a path; a link costs 32, its path bytes
/// shared with the model's change list.
struct KeptEntries {
    /// What is kept of a drifted regular file that is not secret-class.
    struct Link {
        var path: [UInt8]
        var device: UInt64
        var inode: UInt64
        var fileClass: FileClass
    }

    /// Secret-class entries, whole, sorted by path.
    private(set) var secrets: [ClassifiedEntry] = []
    /// Drifted regular files that are not secret-class, sorted by path.
    private(set) var links: [Link] = []

    init() {}

    /// From a walk: its secret-class entries, and of the other regular files those `drifted` says are.
    init(_ entries: [ClassifiedEntry], drifted: ([UInt8]) -> Bool) {
        for e in entries {
            if e.secret {
                secrets.append(e)
            } else if e.stat.kind == .regular && drifted(e.path) {
                links.append(Self.link(e))
            }
        }
        Self.sortIfNeeded(&secrets, path: \.path)
        Self.sortIfNeeded(&links, path: \.path)
    }

    /// A walk's entries as `init(_:drifted:)` keeps them, by `changes`'s paths.
    init(_ entries: [ClassifiedEntry], drifted changes: [FileChange]) {
        let d = Set(changes.map(\.path))
        self.init(entries, drifted: { d.contains($0) })
    }

    private static func link(_ e: ClassifiedEntry) -> Link {
        Link(path: e.path, device: e.stat.device, inode: e.stat.inode, fileClass: e.fileClass)
    }

    /// A link as the walk entry the secret check reads: its kind, path and inode (the rest is not kept).
    private static func entry(_ l: Link) -> ClassifiedEntry {
        let st = FileStat(kind: .regular, mode: 0, size: 0, mtimeNs: 0, ctimeNs: 0, inode: l.inode, device: l.device)
        return ClassifiedEntry(path: l.path, stat: st, fileClass: l.fileClass, secret: false)
    }

    private static func sortIfNeeded<T>(_ a: inout [T], path: (T) -> [UInt8]) {
        var sorted = true
        var i = 1
        while sorted && i < a.count {
            sorted = bytesLess(path(a[i - 1]), path(a[i]))
            i += 1
        }
        if !sorted { a.sort { bytesLess(path($0), path($1)) } }
    }

    /// The walk the secret check gets for a batch: the kept entries outside `scope` and what its
    /// rescan saw (nothing is stored), of the links only those sharing a secret file's inode.
    func replacing(_ scope: ScanScope, with scanned: [ClassifiedEntry]) -> [ClassifiedEntry] {
        var out = secrets.filter { !scope.contains($0.path) } + scanned
        var inodes = Set<SecretIndex.Inode>()
        for e in out where e.secret && e.stat.kind == .regular {
            inodes.insert(SecretIndex.Inode(device: e.stat.device, inode: e.stat.inode))
        }
        if inodes.isEmpty { return out }
        for l in links where inodes.contains(SecretIndex.Inode(device: l.device, inode: l.inode))
            && !scope.contains(l.path) {
            out.append(Self.entry(l))
        }
        return out
    }

    /// Every kept entry as the secret check reads it (links as `replacing` makes them).
    var entries: [ClassifiedEntry] { replacing(ScanScope(), with: []) }

    /// After a batch is recorded: the scope's entries replaced by its rescan's, then only
    /// secret-class files and the files `drifted` (the recorded changes, sorted) names.
    /// - Parameter outside: whether the record changed the drifted list outside the scope (the
    ///   journal's own reads): then every link is checked; otherwise those outside the scope
    ///   still name drifted paths (they did after the last batch, and the list there is the
    ///   same), so only the rescan's are, each looked up (issue 28: not a pass over a million).
    mutating func update(_ scope: ScanScope, with scanned: [ClassifiedEntry], drifted: [FileChange],
                         outside: Bool = true) {
        var newSecrets: [ClassifiedEntry] = []
        var newLinks: [Link] = []
        for e in scanned {
            if e.secret {
                newSecrets.append(e)
            } else if e.stat.kind == .regular && (outside || Self.names(drifted, e.path)) {
                newLinks.append(Self.link(e))
            }
        }
        Self.sortIfNeeded(&newSecrets, path: \.path)
        Self.sortIfNeeded(&newLinks, path: \.path)
        secrets = mergeScoped(secrets, newSecrets, scope, path: \.path)
        mergeScoped(into: &links, newLinks, scope, path: \.path)
        if outside { retain(drifted: drifted) }
    }

    /// Whether sorted `changes` holds a change of `path`.
    private static func names(_ changes: [FileChange], _ path: [UInt8]) -> Bool {
        let k = lowerBound(changes.count) { bytesLess(changes[$0].path, path) }
        return k < changes.count && changes[k].path == path
    }

    /// Keeps the links whose path `changes` or `issues` names (a path no longer drifted has no
    /// link; an issue's may be drifted still: the state merge keeps an unreadable path's drift).
    mutating func retain(drifted changes: [FileChange], issues: [WalkIssue] = []) {
        if Self.isSorted(changes.count, { changes[$0].path }) && Self.isSorted(issues.count, { issues[$0].path }) {
            // All in path order: one pass, no set of a million paths.
            var j = 0
            var k = 0
            var w = 0
            for r in links.indices {
                let p = links[r].path
                while j < changes.count && bytesLess(changes[j].path, p) { j += 1 }
                while k < issues.count && bytesLess(issues[k].path, p) { k += 1 }
                if (j < changes.count && changes[j].path == p) || (k < issues.count && issues[k].path == p) {
                    links.swapAt(w, r)
                    w += 1
                }
            }
            links.removeLast(links.count - w)
        } else {
            let d = Set(changes.map(\.path) + issues.map(\.path))
            links.removeAll { !d.contains($0.path) }
        }
    }

    private static func isSorted(_ count: Int, _ path: (Int) -> [UInt8]) -> Bool {
        var i = 1
        while i < count {
            if !bytesLess(path(i - 1), path(i)) { return false }
            i += 1
        }
        return true
    }
}
