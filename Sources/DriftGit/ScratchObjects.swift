import CLibGit2
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

extension GitRepository {
    /// A throwaway repository that is only an object store: `DIR/objects/pack` for packs
    /// indexed into it (`indexPack`), borrowing `alternate`'s objects read-only. Unlike
    /// `git_repository_init` it writes no config, HEAD, refs or hooks and probes nothing on
    /// the file system: two directories and one small file, so the gate can afford one per
    /// ledger entry (each entry's pack isolated from every other's).
    public convenience init(scratchObjectsAt dir: String, alternate: String) throws {
        ensureLibgit2()
        let objects = dir + "/objects"
        for d in [dir, objects, objects + "/pack", objects + "/info"] where mkdir(d, 0o700) != 0 {
            throw DriftError("\(d): cannot create: \(errnoText(errno))")
        }
        // Scratch data: no fsync needed (the gate removes the whole directory on exit).
        let fd = open(objects + "/info/alternates", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DriftError("\(objects)/info/alternates: cannot create: \(errnoText(errno))") }
        do {
            defer { close(fd) }
            try writeAll(fd, Array((alternate + "\n").utf8), path: objects + "/info/alternates")
        }
        var odb: OpaquePointer?
        try check(git_odb_open(&odb, objects), "git_odb_open", objects)
        defer { git_odb_free(odb) }
        var repo: OpaquePointer?
        // The repository takes its own reference on the odb.
        try check(git_repository_wrap_odb(&repo, odb), "git_repository_wrap_odb", dir)
        guard let repo else { throw DriftError("\(dir): git_repository_wrap_odb returned no repository") }
        do {
            try giveEmptyConfig(repo, dir)
        } catch {
            git_repository_free(repo)
            throw error
        }
        self.init(owning: repo, path: dir)
    }
}

/// Gives a repository made around an odb an empty in-memory config: a tree diff would
/// otherwise load the global and system git config files again for every such repository
/// (the gate makes one per ledger entry).
func giveEmptyConfig(_ repo: OpaquePointer, _ context: String) throws {
    var config: OpaquePointer?
    try check(git_config_new(&config), "git_config_new", context)
    defer { git_config_free(config) }
    try check(git_repository_set_config(repo, config), "git_repository_set_config", context)
}
