#if canImport(Glibc)
import Glibc
#endif

extension FileSystem {
    /// Whether `path` (its last component not followed) is of `kind`, owned by root, and
    /// writable by its owner alone (no group or other write bit): a file only root can change.
    /// - Throws: the `lstat` errno (ENOENT when it does not exist).
    public static func isRootOnly(_ path: String, kind: FileKind) throws(Errno) -> Bool {
        try isRootOnly(Array(path.utf8), kind: kind)
    }

    /// `isRootOnly` of a byte path.
    public static func isRootOnly(_ path: [UInt8], kind: FileKind) throws(Errno) -> Bool {
        var st = Glibc.stat()
        guard withCPath(path, { Glibc.lstat($0, &st) }) == 0 else { throw .current }
        return FileStat(st).kind == kind && st.st_uid == 0 && st.st_mode & mode_t(S_IWGRP | S_IWOTH) == 0
    }
}
