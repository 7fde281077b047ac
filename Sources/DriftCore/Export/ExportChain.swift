import DriftGit
import DriftSystem

/// Follow-up exports (docs/journal.md): an export made after an earlier one is one commit on
/// top of that export's commit, so `git am` applies it where the first was merged. The
/// chain lives in the journal as `refs/drift-exports/<id>`, each commit's first parent the
/// export it follows, the first one's the base.
struct ExportChain {
    var repo: GitRepository
    var base: ObjectID

    /// The most commits a chain may have: a bound on walks over a damaged journal.
    static let limit = 100_000

    /// Where an export of drift `id` goes: on the export it re-exports (same parent as
    /// before, so the same drift exports as the same commit), else on `previous`'s commit
    /// when that export is still in the journal, else (and always with `cumulative`) on the base.
    func parent(for id: DriftID, previous: DriftID?,
                cumulative: Bool) throws -> (commit: ObjectID, follows: DriftID?) {
        if cumulative { return (base, nil) }
        if let same = try repo.reference(Exporter.exportRef(id)), let p = try repo.parents(of: same).first {
            return p == base ? (base, nil) : (p, DriftTrailers(try repo.message(of: p)).id)
        }
        guard let previous, previous != id,
              let commit = try repo.reference(Exporter.exportRef(previous)),
              try inChain(commit) else { return (base, nil) }
        return (commit, previous)
    }

    /// Whether `commit` is an export commit whose first parents lead to the base.
    private func inChain(_ commit: ObjectID) throws -> Bool {
        try commits(upTo: commit) != nil
    }

    /// The chain's commits, newest first, from `tip` down to the one on the base; nil when
    /// the first parents do not reach the base.
    func commits(upTo tip: ObjectID) throws -> [ObjectID]? {
        var out: [ObjectID] = []
        var id = tip
        while out.count < Self.limit {
            out.append(id)
            guard let p = try repo.parents(of: id).first else { return nil }
            if p == base { return out }
            id = p
        }
        return nil
    }

    /// The ids of the chain's exports, newest first (each commit's `Drift-Id`).
    func ids(upTo tip: ObjectID) throws -> [DriftID] {
        try (commits(upTo: tip) ?? [tip]).compactMap { DriftTrailers(try repo.message(of: $0)).id }
    }

    /// Every object a bundle of the chain needs beyond the base: each commit, and the trees
    /// and blobs of each commit's tree that the base tree lacks, each once.
    func objects(upTo tip: ObjectID) throws -> [ObjectID] {
        let baseTree = try self.baseTree()
        var seen = Set<String>()
        var out: [ObjectID] = []
        for c in try commits(upTo: tip) ?? [tip] {
            let tree = try repo.treeOf(commit: c)
            let new = try baseTree.map { try repo.newObjects(tree, comparedTo: $0) } ?? [tree] + present(tree).map(\.id)
            for o in [c] + new where seen.insert(o.hex).inserted {
                out.append(o)
            }
        }
        return out
    }

    /// The blobs of the chain beyond the base that sit only at test-fixture paths
    /// (`SecretScope`): judged as fixtures when the chain is searched for secrets again, as
    /// the scan judged them; a blob also at any other path is judged as code.
    func fixtureBlobs(upTo tip: ObjectID) throws -> Set<ObjectID> {
        let baseTree = try self.baseTree()
        var onlyFixture: [ObjectID: Bool] = [:]
        for c in try commits(upTo: tip) ?? [tip] {
            let tree = try repo.treeOf(commit: c)
            let blobs: [(path: [UInt8], item: GitTreeItem)]
            if let baseTree {
                blobs = try repo.treeChanges(from: baseTree, to: tree, limit: Int.max).compactMap { ch in
                    ch.new.map { (ch.path, $0) }
                }
            } else {
                blobs = try present(tree).map { ($0.path, $0.item) }
            }
            for (path, n) in blobs where n.mode != .tree && n.mode != .commit {
                let fixture = SecretScope(path: path) == .testFixture
                onlyFixture[n.id] = (onlyFixture[n.id] ?? true) && fixture
            }
        }
        return Set(onlyFixture.filter(\.value).keys)
    }

    /// The base commit's tree; nil when the journal no longer has the base (an archived
    /// state: the old image's MDIR is gone, and with it the base objects it lent).
    private func baseTree() throws -> ObjectID? {
        try repo.odb().contains(base) ? try repo.treeOf(commit: base) : nil
    }

    /// Without the base: every entry of `tree` the journal holds (what drift wrote: the
    /// chain's own trees and blobs); an absent one is the old base's, neither entered nor kept.
    private func present(_ tree: ObjectID) throws -> [GitTreeEntry] {
        let odb = try repo.odb()
        var out: [GitTreeEntry] = []
        try repo.walkTree(tree) { e in
            guard e.mode != .commit, odb.contains(e.id) else { return .skip }
            out.append(e)
            return .descend
        }
        return out
    }

    /// What a follow-up changes on top of `parent`'s tree, by path.
    func changes(from parent: ObjectID, to tree: ObjectID) throws -> [[UInt8]: GitTreeChange] {
        let list = try repo.treeChanges(from: try repo.treeOf(commit: parent), to: tree, limit: Int.max)
        return Dictionary(list.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    }
}
