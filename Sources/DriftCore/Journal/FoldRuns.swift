import DriftSystem

/// The foldable withheld changes (`SnapshotSummary.foldable`, with a `/` in the path) as
/// runs: consecutive ones, in the withheld order, of one parent directory, change and class
/// (non-members between them do not end a run). A directory's files come together in path
/// order, so 200,000 drifted data files in 200 directories are about 200 runs: the fold and
/// the depth fold then work per run, not per file, and only one pass reads every change.
struct FoldRuns {
    struct Run {
        /// The order withheld (`k`) of its first and last member.
        var first: Int
        var last: Int
        /// The place in the changes of its first member, whose path names the run's directories.
        var place: Int
        /// The length of the parent directory, with its `/`.
        var parent: Int
        /// How many `/` the parent directory has (its depth).
        var depth: Int
        var change: ChangeKind
        var fileClass: FileClass
        /// The members' count and check (`MemberHasher.addForFold`; hash 0 when not checked).
        var check: MemberCheck
    }

    /// A (directory, change, class) group.
    struct Key: Hashable {
        /// The directory's bytes with its trailing `/`.
        var dir: [UInt8]
        var change: ChangeKind
        var fileClass: FileClass
    }

    let withheld: WithheldChanges
    private(set) var runs: [Run] = []
    /// Per withheld change (by order `k`): its run, -1 when it is no member of one.
    private(set) var runOf: [Int32]

    /// Reads every withheld change once; `checked`: each run's members are hashed (a memo
    /// will compare them).
    init(_ withheld: WithheldChanges, checked: Bool) {
        self.withheld = withheld
        var runOf = [Int32](repeating: -1, count: withheld.count)
        var runs: [Run] = []
        var hasher = MemberHasher()
        withheld.forEachOrder { k, foldable, changes in
            guard let p = foldable else { return }
            let c = changes[p].fileClass
            let parent = Self.lastSlash(changes[p].path) + 1
            guard parent > 0 else { return }
            if let r = runs.last, r.parent == parent, r.change == changes[p].change, r.fileClass == c,
               Self.samePrefix(changes[p].path, changes[r.place].path, parent) {
                runs[runs.count - 1].last = k
            } else {
                if checked && !runs.isEmpty {
                    runs[runs.count - 1].check.hash = hasher.finish().hash
                    hasher = MemberHasher()
                }
                runs.append(Run(first: k, last: k, place: p, parent: parent,
                                depth: Self.slashes(changes[p].path), change: changes[p].change,
                                fileClass: c, check: MemberCheck(count: 0, hash: 0)))
            }
            runs[runs.count - 1].check.count += 1
            runOf[k] = Int32(truncatingIfNeeded: runs.count - 1)
            guard checked else { return }
            // The run's directory once, then each member's name below it.
            if runs[runs.count - 1].first == k { hasher.addDirectory(changes[p].path, parent) }
            hasher.addForFold(changes[p], from: parent)
        }
        if checked && !runs.isEmpty { runs[runs.count - 1].check.hash = hasher.finish().hash }
        self.runs = runs
        self.runOf = runOf
    }

    /// Whether a change, withheld for its class alone, may be folded (`SnapshotSummary.foldable`
    /// of a change whose reason is `.notCode` of its class, as every config or data change
    /// without a secret is): asked of its fields in place, no path read.
    static func mayFold(_ c: FileChange) -> Bool {
        mayFold(c.fileClass, c.secrecy, c.change)
    }

    /// `mayFold` of a change's fields (read in place, the change is not copied).
    static func mayFold(_ fileClass: FileClass, _ secrecy: Secrecy, _ change: ChangeKind) -> Bool {
        (fileClass == .config || fileClass == .data) && secrecy == .none && change != .bytecode
    }

    /// How many members `members` (runs) have.
    func count(_ members: [Int]) -> Int { members.reduce(0) { $0 + runs[$1].check.count } }

    /// The check of a group's members: its runs' checks, in order.
    func check(_ members: [Int]) -> MemberCheck {
        var h = Hasher()
        var n = 0
        for r in members {
            h.combine(runs[r].check.count)
            h.combine(runs[r].check.hash)
            n += runs[r].check.count
        }
        return MemberCheck(count: n, hash: h.finalize())
    }

    /// The length (with its `/`) of run `r`'s directory at `depth` (1-based, ≤ its depth).
    func ancestorLength(_ r: Int, _ depth: Int) -> Int {
        let path = withheld.changes[runs[r].place].path
        var seen = 0
        for i in path.indices where path[i] == 0x2F {
            seen += 1
            if seen == depth { return i + 1 }
        }
        return runs[r].parent
    }

    /// The places in the changes of the members of runs `members`, sorted by path.
    func sortedMembers(_ members: [Int]) -> [Int] {
        var out: [Int] = []
        for r in members {
            for k in runs[r].first...runs[r].last where Int(runOf[k]) == r { out.append(Int(withheld.places[k])) }
        }
        let changes = withheld.changes
        let sorted = zip(out, out.dropFirst()).allSatisfy { !PathBytes.less(changes[$0.1].path, changes[$0.0].path) }
        return sorted ? out : out.sorted { PathBytes.less(changes[$0].path, changes[$1].path) }
    }

    /// The runs `parents` names — (run, length of the directory it folds into, with the `/`),
    /// in order — grouped by (directory, change, class), each group's runs in that order. A
    /// sequence of one group's runs is looked up once, not a key made and hashed per run.
    func group(_ parents: some Sequence<(Int, Int)>) -> [Key: [Int]] {
        var groups: [Key: [Int]] = [:]
        var key: Key?
        var members: [Int] = []
        let changes = withheld.changes
        for (r, length) in parents {
            let run = runs[r]
            if let k = key, k.change == run.change, k.fileClass == run.fileClass, k.dir.count == length,
               Self.samePrefix(changes[run.place].path, k.dir, length) {
                members.append(r)
                continue
            }
            if let k = key { groups[k, default: []] += members }
            key = Key(dir: Array(changes[run.place].path[..<length]), change: run.change, fileClass: run.fileClass)
            members = [r]
        }
        if let k = key { groups[k, default: []] += members }
        return groups
    }

    /// The place of the last `/` in `path`, -1 when none.
    static func lastSlash(_ path: [UInt8]) -> Int {
        path.withUnsafeBufferPointer { p in
            var i = p.count
            while i > 0 {
                i -= 1
                if p[i] == 0x2F { return i }
            }
            return -1
        }
    }

    /// How many `/` `path` has.
    private static func slashes(_ path: [UInt8]) -> Int {
        path.withUnsafeBufferPointer { p in p.reduce(0) { $0 + ($1 == 0x2F ? 1 : 0) } }
    }

    /// Whether `a` and `b` (both at least `n` long) begin with the same `n` bytes, compared in
    /// place a word at a time from the end (sibling directories differ in their last bytes).
    static func samePrefix(_ a: [UInt8], _ b: [UInt8], _ n: Int) -> Bool {
        a.withUnsafeBytes { p in
            b.withUnsafeBytes { d in
                var i = n
                while i >= 8 {
                    i -= 8
                    if p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                        != d.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
                }
                while i > 0 {
                    i -= 1
                    if p[i] != d[i] { return false }
                }
                return true
            }
        }
    }
}
