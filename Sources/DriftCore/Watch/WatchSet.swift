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
    /// Directories whose watch could not be added for lack of watches (ENOSPC, ENOMEM).
    public private(set) var unwatched: Set<[UInt8]> = []
    /// Directories that could not be watched because they are unreadable (EACCES).
    public private(set) var unreadable: Set<[UInt8]> = []
    /// The last errno a watch failed with, for the warning line.
    public private(set) var lastFailure: Errno?

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
            // The same inode watched twice (site-packages inside the root) keeps its workspace path.
            var d = dir
            if d.relative == nil, let old = byDescriptor[wd], old.relative != nil { d.relative = old.relative }
            if let old = byDescriptor[wd]?.relative, old != d.relative { workspaceDescriptors[old] = nil }
            byDescriptor[wd] = d
            if let r = d.relative { workspaceDescriptors[r] = wd }
        case .failure(let e):
            // Gone or no longer a directory: the scan of its parent accounts for it.
            if [.noSuchFileOrDirectory, .notDirectory, .tooManySymbolicLinkLevels].contains(e) { return }
            lastFailure = e
            if e == .permissionDenied { unreadable.insert(key) } else { unwatched.insert(key) }
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
        lastFailure = nil
    }

    /// Watches a directory outside the workspace and every directory below it.
    func addOutsideTree(_ absolute: [UInt8]) {
        addOutside(absolute)
        guard inotify != nil else { return }
        let walker = DirectoryWalker(root: absolute)
        let issues: [ScanIssue]
        do {
            issues = try walker.walk(descend: { rel in
                self.addOutside(absolute + [UInt8(ascii: "/")] + rel)
                return true
            }, visit: { _, _ in })
        } catch {
            // Watched above, but its contents cannot be listed: nothing below it is watched.
            unwatched.insert(absolute)
            return
        }
        // A directory below it that cannot be read is degraded, as in the workspace.
        for i in issues where i.unreadableDirectory {
            unreadable.insert(absolute + [UInt8(ascii: "/")] + i.path)
        }
    }
}
