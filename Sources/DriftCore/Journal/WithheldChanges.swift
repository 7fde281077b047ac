/// The changes a snapshot records by name (and hash) only, with the reason: their places in
/// the list the tree was built from. Almost all are config or data withheld for their class
/// (`.notCode`): a place of 4 bytes each, where a copy of the change was 136 and its reason
/// more (issue 28). The few withheld for another reason keep it beside, with the change as
/// withheld when it differs from the list's (code whose bytes turned out a secret's).
struct WithheldChanges {
    /// The list the places are in (shared, not copied).
    let changes: [FileChange]
    /// Places in `changes`, in the order withheld.
    private(set) var places: [Int32] = []
    /// By order withheld (`k`): the reason when it is not `.notCode` of the change's class,
    /// and the change when withheld as another (`secretContent` raises its secrecy).
    private(set) var special: [Int: (change: FileChange?, reason: WithholdReason)] = [:]

    init(_ changes: [FileChange]) {
        self.changes = changes
    }

    var count: Int { places.count }

    /// Withholds `changes[i]` for `reason`, as `change` when given.
    mutating func append(_ i: Int, _ reason: WithholdReason, as change: FileChange? = nil) {
        // A list of 2^31 changes would be 292 GB: a place always fits.
        let p = Int32(truncatingIfNeeded: i)
        if change != nil || reason != .notCode(changes[i].fileClass) {
            special[places.count] = (change, reason)
        }
        places.append(p)
    }

    /// The reason the `k`-th withheld change is withheld.
    func reason(_ k: Int) -> WithholdReason {
        special[k]?.reason ?? .notCode(changes[Int(places[k])].fileClass)
    }

    /// The `k`-th withheld change (a copy).
    func change(_ k: Int) -> FileChange {
        special[k]?.change ?? changes[Int(places[k])]
    }

    /// Each order withheld (`k`) in turn, with the change's place in `changes` when the fold may
    /// take it (withheld for its class alone and `FoldRuns.mayFold`), nil when not; the changes
    /// are read in place, not copied.
    func forEachOrder(_ body: (_ k: Int, _ foldable: Int?, _ changes: UnsafeBufferPointer<FileChange>) -> Void) {
        let special = specialOrders
        var s = 0
        changes.withUnsafeBufferPointer { changes in
            places.withUnsafeBufferPointer { places in
                for k in places.indices {
                    // Withheld for a reason of its own (or as another change): never folded.
                    if s < special.count && special[s] == k {
                        s += 1
                        body(k, nil, changes)
                        continue
                    }
                    let p = Int(places[k])
                    let may = FoldRuns.mayFold(changes[p].fileClass, changes[p].secrecy, changes[p].change)
                    body(k, may ? p : nil, changes)
                }
            }
        }
    }

    /// The orders (`k`) withheld for a reason of their own or as another change, ascending.
    var specialOrders: [Int] { special.keys.sorted() }

    /// Whether any was withheld for a reason the next scan tries again.
    var anyRetried: Bool { special.values.contains { $0.reason.retry } }

    /// Each withheld change with its reason, copied out.
    var copied: [(FileChange, WithholdReason)] { places.indices.map { (change($0), reason($0)) } }
}
