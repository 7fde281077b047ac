import DriftGit
import DriftSystem
import Synchronization

/// A walk of the root with the policy applied: every non-ignored entry with its class.
public struct ClassifiedEntry: Sendable {
    // The stat's fields flat, its kind and mode beside the one-byte fields: 56 bytes an entry,
    // not 64 (a walk of a million files, held through a first scan: issue 28).
    public var path: [UInt8]
    private var size: Int64
    private var mtimeNs: Int64
    private var ctimeNs: Int64
    private var inode: UInt64
    private var device: UInt64
    private var mode: UInt32
    private var kind: FileKind
    var fileClass: FileClass
    public var secret: Bool

    init(path: [UInt8], stat: FileStat, fileClass: FileClass, secret: Bool) {
        self.path = path
        size = stat.size
        mtimeNs = stat.mtimeNs
        ctimeNs = stat.ctimeNs
        inode = stat.inode
        device = stat.device
        mode = stat.mode
        kind = stat.kind
        self.fileClass = fileClass
        self.secret = secret
    }

    /// What the walk's `fstatat` gave.
    public var stat: FileStat {
        get {
            FileStat(kind: kind, mode: mode, size: size, mtimeNs: mtimeNs, ctimeNs: ctimeNs, inode: inode,
                     device: device)
        }
        set { self = ClassifiedEntry(path: path, stat: newValue, fileClass: fileClass, secret: secret) }
    }
}

public struct TreeWalk {
    public var entries: [ClassifiedEntry]
    var issues: [WalkIssue]
    /// Directories that could not be read: nothing below them is known.
    var unreadableDirectories: [[UInt8]]

    /// Walks `root`, skipping ignored directories whole and dropping ignored entries;
    /// `entering` sees each directory (relative path, the root as `[]`) just before it is read.
    public static func run(root: [UInt8], classifier: Classifier,
                           entering: (@Sendable ([UInt8]) -> Void)? = nil) throws -> TreeWalk {
        try run(root: root, policy: classifier.policy, entering: entering)
    }

    /// Threads a walk uses by default: one per core (the walk is bound by `fstatat`).
    public static var defaultThreads: Int { ParallelHasher.defaultWorkers }

    /// The walk on `threads` threads, each classifying with its own `Classifier`; the same
    /// entries in the same order as on one. `entering` calls are serialised.
    /// `readAhead` is handed every kept regular file of at most `Scanner.readLimit` bytes as
    /// it is found (a first scan reads and hashes while the walk goes on).
    public static func run(root: [UInt8], policy: Policy, threads: Int = defaultThreads,
                           entering: (@Sendable ([UInt8]) -> Void)? = nil,
                           readAhead: ReadAhead? = nil) throws -> TreeWalk {
        let lock = EnteringLock()
        entering.map { e in lock.withLock { e([]) } }
        let walker = ParallelDirectoryWalker(root: root, threads: threads)
        let (entries, issues) = try walker.walk {
            ClassifyingVisitor(classifier: Classifier(policy: policy), entering: entering, lock: lock,
                               readAhead: readAhead)
        }
        let unreadable = issues.filter(\.unreadableDirectory).map(\.path)
        return TreeWalk(entries: entries, issues: issues, unreadableDirectories: unreadable)
    }
}

/// Serialises `entering` (the watcher's watch set is not thread-safe).
final class EnteringLock: Sendable {
    private let mutex = Mutex(())
    func withLock(_ body: () -> Void) { mutex.withLock { _ in body() } }
}

/// One walking thread's policy: skips ignored directories, keeps non-ignored entries.
struct ClassifyingVisitor: WalkVisitor {
    let classifier: Classifier
    let entering: (@Sendable ([UInt8]) -> Void)?
    let lock: EnteringLock
    var readAhead: ReadAhead?

    mutating func descend(_ dir: [UInt8]) -> Bool {
        guard classifier.shouldDescend(dir) else { return false }
        if let entering { lock.withLock { entering(dir) } }
        return true
    }

    mutating func visit(_ path: [UInt8], _ stat: FileStat) -> ClassifiedEntry? {
        let (c, secret) = classifier.classifyAll(path, isDirectory: stat.kind == .directory)
        if c == .ignore { return nil }
        if let readAhead, stat.kind == .regular, stat.size <= Scanner.readLimit { readAhead.submit(path) }
        return ClassifiedEntry(path: path, stat: stat, fileClass: c, secret: secret)
    }
}

/// Throws when `target` (existing or not) is the root or lies under it: drift never
/// writes under the scanned root. Checked by identity (`WriteTarget`); returns the resolved path.
@discardableResult
func refuseWriteUnder(root: [UInt8], target: String, what: String) throws -> String {
    try WriteTarget.refuseInside(root: root, target: target, what: what)
}

/// `refuseWriteUnder(root:target:what:)` for a target held as bytes (`--log`, `--metrics`).
@discardableResult
func refuseWriteUnder(root: [UInt8], target: [UInt8], what: String) throws -> [UInt8] {
    try WriteTarget.refuseInside(root: root, targetBytes: target, what: what)
}
