import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The bare repository baked into MDIR (`base.git`): the base commit and every object
/// of its tree, nothing else, so the container needs neither network nor `.git`.
public enum BaseObjects {
    public static let ref = "refs/heads/base"

    /// Copies the commit and its whole tree from `src` into a new bare repo at `path` (one
    /// pack, see `SnapshotCopy`), with `refs/heads/base` and HEAD on it.
    static func bake(from src: GitRepository, commit: ObjectID, into path: [UInt8]) throws {
        let dst = try SnapshotCopy.copy(from: src, commit: commit, into: path)
        try dst.setReference(ref, to: commit)
        try dst.setHead(ref)
    }

    /// Opens MDIR's base repository and checks it holds the manifest's commit.
    static func open(_ mdir: ManifestDirectory, commit: String) throws -> GitRepository {
        let p = mdir.file(ManifestDirectory.baseRepo)
        guard (try? FileSystem.stat(p.appending(text: "/objects"))) != nil else {
            throw DriftError(.manifestInvalid, path: p, "base objects are missing from the manifest directory")
        }
        let repo = try GitRepository(path: p)
        guard let id = ObjectID(hex: commit), try repo.odb().contains(id) else {
            throw DriftError(.manifestInvalid, path: p, "base commit \(commit) is missing from the manifest directory")
        }
        return repo
    }
}
