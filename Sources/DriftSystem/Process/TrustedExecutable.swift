#if canImport(Glibc)
import Glibc
#endif

/// Whether a program may be run as root on drift's behalf: only what root alone could have
/// put there. A planted `/venv/bin/python3.98` (a directory `pip install` writes) fails this.
public enum TrustedExecutable {
    /// True when `path` is absolute, resolves to a regular executable file, and that file,
    /// every directory on the way to it (as given and as resolved) and every symlink passed
    /// are owned by root and, for the file and the directories, not group- or world-writable.
    /// - Parameter path: an absolute path such as `/usr/bin/python3.11`.
    /// - Returns: false for anything else, including a path that does not exist.
    public static func check(_ path: String) -> Bool {
        guard path.hasPrefix("/"), let real = canonicalPath(path) else { return false }
        var file = stat()
        guard lstat(real, &file) == 0, file.st_mode & S_IFMT == S_IFREG, file.st_mode & 0o111 != 0,
              file.st_uid == 0, file.st_mode & 0o022 == 0 else { return false }
        return ancestorsTrusted(path) && ancestorsTrusted(real)
    }

    /// Every prefix directory of `path` (not the last component) is root's and not writable
    /// by others; a symlink on the way must be root's (its own mode means nothing).
    private static func ancestorsTrusted(_ path: String) -> Bool {
        var prefix = ""
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).dropLast()
        for part in [""] + parts.map(String.init) {
            prefix = part.isEmpty ? "/" : (prefix == "/" ? "/" : prefix + "/") + part
            var st = stat()
            guard lstat(prefix, &st) == 0, st.st_uid == 0 else { return false }
            if st.st_mode & S_IFMT == S_IFLNK {
                // Where it leads is checked as the resolved path.
                continue
            }
            guard st.st_mode & S_IFMT == S_IFDIR, st.st_mode & 0o022 == 0 else { return false }
        }
        return true
    }
}
