import DriftGit
import DriftSystem

/// The directories one inotify instance watches, by watch descriptor: workspace
/// directories by path relative to the root, site-packages directories by absolute path.
///
/// Used by one thread at a time: a full scan's walking thread adds watches while the
/// owner waits for the walk to finish.
public final class WatchSet: @unchecked Sendable {
    public struct Directory: Sendable {
        /// Relative to the workspace root (`[]` is the root); nil outside the workspace.
        public var relative: [UInt8]?
        var absolute: [UInt8]
    }

    /// nil when inotify could not be started: drift watch then relies on periodic scans.
    public let inotify: Inotify?
    public let root: [UInt8]
    public private(set) var byDescriptor: [Int32: Directory] = [:]
    private var workspaceDescriptors: [[UInt8]: Int32] = [:]
    /// Directories whose watch could not be added for lack of watches (ENOSPC, ENOMEM): the
    /// only "watch limit" there is.
    public private(set) var unwatched: Set<[UInt8]> = []
    /// Directories that could not be watched or listed because they cannot be read (EACCES, EPERM).
    public private(set) var unreadable: Set<[UInt8]> = []
    /// Directories whose watch failed for any other reason, with the errno (named in status).
    public private(set) var failed: [[UInt8]: Errno] = [:]
    /// The errno the watch limit was hit with (ENOSPC or ENOMEM), for the warning line.
    public private(set) var limitFailure: Errno?
    /// Directories that vanished while being watched or walked (ENOENT, ENOTDIR, ELOOP): no
    /// failure, their parent's re-walk accounts for them. The watcher takes them (`takeVanished`).
    private(set) var vanished: [[UInt8]] = []

    /// Workspace directories are opened beneath the root before they are watched, so a
    /// component swapped for a symlink never puts a watch on a directory outside it.
    /// Re-opened by `resetFailures` (a full pass), in case the root itself was replaced.
    private var rootDirectory: RootDirectory

    public init(inotify: Inotify?, root: [UInt8]) {
        self.inotify = inotify
        self.root = root
        rootDirectory = RootDirectory(path: root)
    }

    public var count: Int { byDescriptor.count }

    private func absolute(_ relative: [UInt8]) -> [UInt8] {
        relative.isEmpty ? root : root + [UInt8(ascii: "/")] + relative
    }

    /// Watches a workspace directory (relative path); failures are remembered, not thrown.
    func addWorkspace(_ relative: [UInt8]) {
        add(Directory(relative: relative, absolute: absolute(relative)))
    }

    /// Watches a directory outside the workspace tree (site-packages), by absolute path.
    func addOutside(_ absolute: [UInt8]) {
        add(Directory(relative: nil, absolute: absolute))
    }

    private func add(_ dir: Directory) {
        let key = dir.relative ?? dir.absolute
        guard let inotify else {
            unwatched.insert(key)
            return
        }
        switch watch(dir, inotify) {
        case .success(let wd):
            unwatched.remove(key)
            unreadable.remove(key)
            failed[key] = nil
            // The same inode watched twice (site-packages inside the root) keeps its workspace path.
            var d = dir
            if d.relative == nil, let old = byDescriptor[wd], old.relative != nil { d.relative = old.relative }
            if let old = byDescriptor[wd]?.relative, old != d.relative { workspaceDescriptors[old] = nil }
            byDescriptor[wd] = d
            if let r = d.relative { workspaceDescriptors[r] = wd }
        case .failure(let e):
            switch e {
            case .noSuchFileOrDirectory, .notDirectory, .tooManySymbolicLinkLevels:
                // Gone or no longer a directory: the scan of its parent accounts for it.
                vanished.append(key)
            case .noSpace, .outOfMemory:
                limitFailure = e
                unwatched.insert(key)
            case .permissionDenied, .notPermitted:
                unreadable.insert(key)
            default:
                failed[key] = e
            }
        }
    }

    private func watch(_ dir: Directory, _ inotify: Inotify) -> Result<Int32, Errno> {
        guard let rel = dir.relative else { return inotify.add(dir.absolute) }
        let r: Result<Int32, Errno>
        switch rootDirectory.withDirectory(rel, { inotify.add(descriptor: $0) }) {
        case .success(let added): r = added
        case .failure(let e):
            // A symlink component (ELOOP, EXDEV) is not a directory of the tree: like ENOENT.
            return .failure(e == .improperLink ? .tooManySymbolicLinkLevels : e)
        }
        // Without /proc, the path (IN_DONT_FOLLOW guards its last component only).
        if case .failure(let e) = r, e == .noSuchFileOrDirectory { return inotify.add(dir.absolute) }
        return r
    }

    /// Stops watching a workspace directory and everything below it (moved away or deleted).
    func removeWorkspace(under relative: [UInt8]) {
        for (path, wd) in workspaceDescriptors where PathBytes.isWithin(path, relative) {
            inotify?.remove(wd)
            byDescriptor[wd] = nil
            workspaceDescriptors[path] = nil
        }
        unwatched = unwatched.filter { !PathBytes.isWithin($0, relative) }
        unreadable = unreadable.filter { !PathBytes.isWithin($0, relative) }
        failed = failed.filter { !PathBytes.isWithin($0.key, relative) }
    }

    /// The directories that vanished since the last call (their keys: relative for the
    /// workspace, absolute outside it).
    func takeVanished() -> [[UInt8]] {
        defer { vanished.removeAll() }
        return vanished
    }

    /// The kernel dropped a watch (IN_IGNORED: its directory is gone).
    func forget(_ wd: Int32) {
        guard let d = byDescriptor.removeValue(forKey: wd) else { return }
        if let r = d.relative, workspaceDescriptors[r] == wd { workspaceDescriptors[r] = nil }
    }

    /// Forgets the failures before a full pass re-adds every watch.
    func resetFailures() {
        rootDirectory = RootDirectory(path: root)
        unwatched.removeAll()
        unreadable.removeAll()
        failed.removeAll()
        limitFailure = nil
        vanished.removeAll()
    }

    /// Watches a directory outside the workspace and every directory below it.
    func addOutsideTree(_ absolute: [UInt8]) {
        addOutside(absolute)
        guard inotify != nil else { return }
        let walker = DirectoryWalker(root: absolute)
        let issues: [WalkIssue]
        do {
            issues = try walker.walk(descend: { rel in
                self.addOutside(absolute + [UInt8(ascii: "/")] + rel)
                return true
            }, visit: { _, _ in })
        } catch {
            // Gone again (pip removes what it unpacked a moment ago): nothing to watch.
            if !Self.exists(absolute) {
                vanished.append(absolute)
                return
            }
            // Watched above, but its contents cannot be listed: nothing below it is watched.
            unreadable.insert(absolute)
            return
        }
        // A directory below it that cannot be read is degraded, as in the workspace; one that
        // vanished while walked is not.
        for i in issues where i.unreadableDirectory {
            let path = absolute + [UInt8(ascii: "/")] + i.path
            if Self.exists(path) { unreadable.insert(path) } else { vanished.append(path) }
        }
    }

    /// Whether an absolute path exists now (`lstat` does not fail with ENOENT; a symlink counts).
    static func exists(_ path: [UInt8]) -> Bool { !FileSystem.isAbsent(path) }
}
