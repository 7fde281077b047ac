#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The bare repository baked into MDIR (`base.git`): the base commit and every object
/// of its tree, nothing else, so the container needs neither network nor `.git`.
public enum BaseObjects {
    public static let ref = "refs/heads/base"

    /// Copies the commit and its whole tree from `src` into a new bare repo at `path`.
    public static func bake(from src: GitRepository, commit: ObjectID, into path: String) throws {
        if FileManager.default.fileExists(atPath: path) {
            do { try FileManager.default.removeItem(atPath: path) } catch {
                throw DriftError("\(path): cannot replace the old base repository: \(errorText(error))")
            }
        }
        let dst = try GitRepository(initBare: path)
        let from = try src.odb()
        let to = try dst.odb()
        let (type, body) = try from.read(commit)
        guard type == .commit else { throw DriftError("\(src.path): \(commit.hex) is not a commit") }
        guard let treeID = commitTree(body) else { throw DriftError("\(src.path): commit \(commit.hex) has no tree") }
        var done = Set<ObjectID>()
        try copyTree(treeID, from, to, &done, context: src.path)
        try to.write(.commit, body)
        try dst.setReference(ref, to: commit)
        try dst.setHead(ref)
        // Parents are absent on purpose: tell the git CLI this is a shallow repository.
        try AtomicFile.write(Array("\(commit.hex)\n".utf8), to: path + "/shallow")
    }

    private static func copyTree(_ id: ObjectID, _ from: GitODB, _ to: GitODB, _ done: inout Set<ObjectID>, context: String) throws {
        if !done.insert(id).inserted { return }
        let (t, body) = try from.read(id)
        guard t == .tree else { throw DriftError("\(context): \(id.hex) is not a tree") }
        for e in try parseTree(body, context: context) {
            switch e.mode {
            case "40000": try copyTree(e.id, from, to, &done, context: context)
            case "160000": continue // submodule commit: not part of this repository's objects
            default:
                if done.insert(e.id).inserted {
                    let (bt, blob) = try from.read(e.id)
                    try to.write(bt, blob)
                }
            }
        }
        try to.write(.tree, body)
    }

    /// The tree id named in a raw commit object.
    static func commitTree(_ body: [UInt8]) -> ObjectID? {
        guard body.starts(with: Array("tree ".utf8)), body.count >= 45 else { return nil }
        return ObjectID(hex: String(decoding: body[5..<45], as: UTF8.self))
    }

    /// Opens MDIR's base repository and checks it holds the manifest's commit.
    public static func open(_ mdir: ManifestDirectory, commit: String) throws -> GitRepository {
        let p = mdir.file(ManifestDirectory.baseRepo)
        guard FileManager.default.fileExists(atPath: p + "/objects") else {
            throw DriftError("\(p): base objects are missing from the manifest directory")
        }
        let repo = try GitRepository(path: p)
        guard let id = ObjectID(hex: commit), try repo.odb().contains(id) else {
            throw DriftError("\(p): base commit \(commit) is missing from the manifest directory")
        }
        return repo
    }
}
