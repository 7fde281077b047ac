#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DriftSystem

/// A commit and every object of its tree, copied into a new bare repository as one pack:
/// what a manifest bakes as `base.git`, so the container needs neither network nor `.git`.
public enum SnapshotCopy {
    /// Copies the commit and its whole tree from `src` into a new bare repo at `path`, as
    /// one pack: entries the source already holds in a pack are copied without inflating
    /// (a delta only when its base is baked too, from the same source pack); the rest are
    /// deflated once at zlib level 1. libgit2 checks every object's id when it reads it.
    /// - Parameters:
    ///   - src: the source repository.
    ///   - commit: the commit to copy, with its tree (not its parents).
    ///   - path: where the new bare repository goes (an old one there is replaced).
    /// - Returns: the new repository, without refs.
    /// - Throws: `GitError` or `DriftError` naming the repository and object that failed.
    @discardableResult
    public static func copy(from src: GitRepository, commit: ObjectID, into path: [UInt8]) throws -> GitRepository {
        if !FileSystem.isAbsent(path) {
            do { try FileSystem.removeTree(path) } catch {
                throw DriftError(.io, path: path, "cannot replace the old base repository: \(errorText(error))")
            }
        }
        let dst = try GitRepository(initBare: path)
        let from = try src.odb()
        let (type, body) = try from.read(commit)
        guard type == .commit else { throw DriftError(.gitFailure, path: src.path, "\(commit.hex) is not a commit") }
        let set = try collect(src.treeOf(commit: commit), src)
        let packs = SourcePacks(objectsDirectory: src.objectsDirectory)
        let writer = try PackWriter(directory: path.appending(text: "/objects/pack"),
                                    count: 1 + set.trees.count + set.blobs.count)
        try body.withUnsafeBytes { try writer.addWhole(commit.raw, type: .commit, $0) }
        // Trees and blobs alike: copied from the source pack when reusable, else read once and
        // deflated (a tree's walk above went through libgit2's cache, not through this read).
        for id in set.trees + set.blobs {
            if let e = reusable(id, packs, set) {
                try writer.addRaw(id.raw, type: e.type, size: e.size, base: e.base, e.data)
                continue
            }
            let (t, body) = try from.read(id)
            try body.withUnsafeBytes { try writer.addWhole(id.raw, type: t, $0) }
        }
        try writer.finish()
        // Parents are absent on purpose: tell the git CLI this is a shallow repository.
        try AtomicFile.write(Array("\(commit.hex)\n".utf8), to: path + Array("/shallow".utf8))
        return dst
    }

    /// The objects of one tree, each once, by id.
    private struct ObjectSet {
        var trees: [ObjectID] = []
        var blobs: [ObjectID] = []
        var all = Set<ObjectKey>()
    }

    /// Every tree and blob of `tree`, each once; a tree met twice is not entered twice, and
    /// submodule commits are not this repository's objects.
    private static func collect(_ tree: ObjectID, _ src: GitRepository) throws -> ObjectSet {
        var set = ObjectSet()
        set.all.insert(ObjectKey(tree))
        set.trees.append(tree)
        try src.walkTree(tree) { e in
            switch e.mode {
            case .commit:
                return .skip
            case .tree:
                guard set.all.insert(ObjectKey(e.id)).inserted else { return .skip }
                set.trees.append(e.id)
            case .blob, .executable, .symlink:
                if set.all.insert(ObjectKey(e.id)).inserted { set.blobs.append(e.id) }
            }
            return .descend
        }
        return set
    }

    /// A source pack entry that can be copied as is: a whole object, or a delta whose base
    /// is baked too and is taken from the same pack (one pack's delta graph has no cycles).
    private static func reusable(_ id: ObjectID, _ packs: SourcePacks, _ set: ObjectSet) -> RawPackEntry? {
        guard let (pack, position) = packs.locate(id.raw), let e = pack.entry(at: position) else { return nil }
        guard let base = e.base else { return e }
        guard set.all.contains(ObjectKey(base)), let b = packs.locate(base), b.pack === pack else { return nil }
        return e
    }
}
