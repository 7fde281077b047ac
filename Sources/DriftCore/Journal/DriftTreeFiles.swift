import DriftGit
import DriftSystem

/// The pieces of `DriftTreeBuilder.build`: which changes are withheld before anything is
/// read, and how a drifted regular file's bytes become a blob.
extension DriftTreeBuilder {
    /// One `build` in progress: the tree updates so far, and what was included, withheld and observed.
    struct Edits {
        var blobs: SnapshotBlobs
        var updates: [TreeUpdate] = []
        var observed: [[UInt8]: EntryState] = [:]
        /// Bytes stored as blobs, by path (the requirements edit starts from them).
        var written: [[UInt8]: [UInt8]] = [:]
        var included: [FileChange] = []
        var withheld: WithheldChanges
    }

    /// Where a drifted file's bytes come from: the scan's read, else one read here.
    struct Source {
        var contents: [[UInt8]: [UInt8]]
        /// The requirements file may be edited from its written bytes: never taken from the cache.
        var requirementsPath: [UInt8]?
        var hasher: SHA256Hasher
        var buffer: UnsafeMutableRawBufferPointer
    }

    /// Why a change is recorded by name only, decided before its content is looked at (nil: it is not).
    static func withholdReason(_ c: FileChange) -> WithholdReason? {
        if let why = withheldByClass(c.fileClass, c.secrecy) { return why }
        // Bytecode is evidence for the instance, never upstream material.
        if c.change == .bytecode { return .bytecode }
        // One name git refuses would fail the whole tree update: that path alone is withheld.
        if let new = c.new, !storable(c.path, new) { return .nameGitCannotStore }
        return nil
    }

    /// Why a change of this class and secrecy never carries content (nil: it may). Asked of
    /// the fields in place: a list of 200,000 data files is not copied change by change.
    static func withheldByClass(_ fileClass: FileClass, _ secrecy: Secrecy) -> WithholdReason? {
        guard carriesContent(fileClass: fileClass, secret: secrecy != .none) else {
            switch secrecy {
            case .unchecked: return .secretsUnreadable
            case .content: return .secretContent
            case .name: return .secret
            case .none: return .notCode(fileClass)
            }
        }
        return nil
    }

    /// Adds a drifted regular file's blob to the tree, or withholds it (too big, moving,
    /// unreadable, carrying a secret). Returns whether it is included.
    func addFile(_ i: Int, _ c: FileChange, _ new: EntryState, _ edits: inout Edits,
                 _ source: Source) throws -> Bool {
        if new.size > sizeLimit {
            edits.withheld.append(i, .overSizeLimit(sizeLimit))
            return false
        }
        // Content that moved while it was read is not recorded as truth; the next
        // scan records the settled version.
        if c.unstable {
            edits.withheld.append(i, .changedWhileRead)
            return false
        }
        var bytes = source.contents[c.path]
        // Unchanged drift already in the journal: the blob the same content gave before.
        if bytes == nil, c.path != source.requirementsPath, let d = new.digest,
           let id = blobCache?.blob(for: d, in: edits.blobs.odb) {
            let mode = GitFileMode(symlink: false, executable: new.executable)
            edits.updates.append(TreeUpdate(path: c.path, action: .upsert(id, mode: mode)))
            return true
        }
        if bytes == nil {
            guard let b = try read(i, c, new, &edits, source) else { return false }
            bytes = b
        }
        guard let bytes else { return false }
        if secrets.matches(bytes, scope: SecretScope(path: c.path)) {
            var s = c
            s.secrecy = .content
            edits.withheld.append(i, .secretContent, as: s)
            return false
        }
        let mode = GitFileMode(symlink: false, executable: (edits.observed[c.path] ?? new).executable)
        edits.written[c.path] = bytes
        let id = try edits.blobs.add(bytes)
        if let cache = blobCache { cache.remember(try SHA256Hasher.digest(bytes), id) }
        edits.updates.append(TreeUpdate(path: c.path, action: .upsert(id, mode: mode)))
        return true
    }

    /// Reads a drifted file the scan did not keep; that one read gives both its bytes and
    /// its state (observed when it differs from the scan's). nil: withheld.
    private func read(_ i: Int, _ c: FileChange, _ new: EntryState, _ edits: inout Edits,
                      _ source: Source) throws -> [UInt8]? {
        let got: FileReader.Content
        do {
            got = try reader.read(c.path, with: source.hasher, buffer: source.buffer, keepUpTo: sizeLimit)
        } catch let e as FileReadError {
            edits.withheld.append(i, e.moved ? .changedWhileRead : .unreadable(e.causeText))
            return nil
        }
        guard got.stable, let b = got.bytes else {
            edits.withheld.append(i, .changedWhileRead)
            return nil
        }
        let seen = EntryState(kind: .regular, executable: got.stat.isExecutable, size: Int64(b.count),
                              digest: got.digest)
        if seen != new { edits.observed[c.path] = seen }
        return b
    }
}
