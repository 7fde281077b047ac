import DriftGit
import DriftSystem
import Synchronization

/// Blob ids of content already written to one journal, by the SHA-256 the scan reported for
/// it, kept by a long-running recorder (`drift watch`): drift that did not change since the
/// last snapshot is neither read, hashed nor written again, only looked up.
///
/// An entry is used only for the journal it was made in, only while the secret index it was
/// checked against is unchanged (code carrying a secret's content is withheld), and only when
/// the journal still has the blob. Entries not used by a snapshot are dropped after it.
public final class JournalBlobCache: Sendable {
    // The watcher hands one cache from scan to scan; a lock makes that safe whichever thread
    // records (the compiler checks it: no `@unchecked`).
    private struct State {
        var ids: [Digest: ObjectID] = [:]
        var used = Set<Digest>()
        var journal: [UInt8]?
        var secrets = SecretIndex()
        var last: LastSnapshot?
    }

    /// The snapshot this recorder wrote last, with its record and the notes ref's tip then:
    /// while the branch and the notes ref still name exactly these, the next record compares
    /// with it instead of reading and decoding the note again (one entry a drifted path).
    struct LastSnapshot: Sendable {
        var commit: ObjectID
        var notesTip: ObjectID
        var info: SnapshotInfo
    }

    private let state = Mutex(State())
    /// What the last record derived per group of drifted files (a watcher's records only).
    let memo = JournalMemo()

    public init() {}

    public var count: Int { state.withLock { $0.ids.count } }

    /// Starts one snapshot: entries from another journal or secret index are forgotten.
    func begin(journal path: [UInt8], secrets s: SecretIndex) {
        state.withLock { st in
            if st.journal != path || st.secrets != s {
                st.ids.removeAll()
                st.last = nil
                st.journal = path
                st.secrets = s
            }
            st.used.removeAll()
        }
    }

    func blob(for digest: Digest, in odb: GitODB) -> ObjectID? {
        guard let id = state.withLock({ $0.ids[digest] }) else { return nil }
        // The object database is asked outside the lock (it may read the disk).
        let present = odb.containsWithoutRefresh(id)
        return state.withLock { st in
            guard present else {
                st.ids[digest] = nil
                return nil
            }
            st.used.insert(digest)
            return id
        }
    }

    func remember(_ digest: Digest, _ id: ObjectID) {
        state.withLock { st in
            st.ids[digest] = id
            st.used.insert(digest)
        }
    }

    /// The record of `commit` when this recorder wrote it and the notes ref is still at `tip`.
    func lastSnapshot(_ commit: ObjectID, notesTip tip: ObjectID?) -> SnapshotInfo? {
        state.withLock { st in
            guard let l = st.last, l.commit == commit, l.notesTip == tip else { return nil }
            return l.info
        }
    }

    func wrote(_ commit: ObjectID, notesTip tip: ObjectID?, _ info: SnapshotInfo) {
        state.withLock { $0.last = tip.map { LastSnapshot(commit: commit, notesTip: $0, info: info) } }
    }

    /// Ends a snapshot: only what it used is kept (the cache stays the size of the drift).
    func end() {
        state.withLock { st in
            if st.used.count < st.ids.count { st.ids = st.ids.filter { st.used.contains($0.key) } }
        }
    }
}

extension SecretIndex: Equatable {
    public static func == (a: SecretIndex, b: SecretIndex) -> Bool {
        // Values are ordered by length only: compared as sets.
        a.inodes == b.inodes && a.digests == b.digests && Set(a.values) == Set(b.values)
            && a.unreadable == b.unreadable && a.released == b.released
    }
}
