import DriftGit
import DriftSystem

/// Blob ids of content already written to one journal, by the SHA-256 the scan reported for
/// it, kept by a long-running recorder (`drift watch`): drift that did not change since the
/// last snapshot is neither read, hashed nor written again, only looked up.
///
/// An entry is used only for the journal it was made in, only while the secret index it was
/// checked against is unchanged (code carrying a secret's content is withheld), and only when
/// the journal still has the blob. Entries not used by a snapshot are dropped after it.
public final class JournalBlobCache: @unchecked Sendable {
    private var ids: [Digest: ObjectID] = [:]
    private var used = Set<Digest>()
    private var journal: String?
    private var secrets = SecretIndex()

    public init() {}

    public var count: Int { ids.count }

    /// Starts one snapshot: entries from another journal or secret index are forgotten.
    func begin(journal path: String, secrets s: SecretIndex) {
        if journal != path || secrets != s {
            ids.removeAll()
            journal = path
            secrets = s
        }
        used.removeAll()
    }

    func blob(for digest: Digest, in odb: GitODB) -> ObjectID? {
        guard let id = ids[digest] else { return nil }
        guard odb.containsWithoutRefresh(id) else {
            ids[digest] = nil
            return nil
        }
        used.insert(digest)
        return id
    }

    func remember(_ digest: Digest, _ id: ObjectID) {
        ids[digest] = id
        used.insert(digest)
    }

    /// Ends a snapshot: only what it used is kept (the cache stays the size of the drift).
    func end() {
        if used.count < ids.count { ids = ids.filter { used.contains($0.key) } }
    }
}

extension SecretIndex: Equatable {
    public static func == (a: SecretIndex, b: SecretIndex) -> Bool {
        // Values are ordered by length only: compared as sets.
        a.inodes == b.inodes && a.digests == b.digests && Set(a.values) == Set(b.values)
            && a.unreadable == b.unreadable
    }
}
