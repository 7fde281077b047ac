import DriftGit
import DriftSystem

/// Rebuilds a state whose `state.json` cannot be read back (damaged, oversized) instead of
/// failing every run until a person moves it aside: drifted paths and their first sightings
/// come from the journal's latest snapshot (what was recorded last), everything else starts
/// afresh. The next scan re-derives drift from the tree; paths it finds that the snapshot
/// lists keep their first sighting, so a deadline is not restarted by a broken file.
enum StateRecovery {
    /// The damaged file's name once moved aside (one kept, the newest).
    static let asideName = "state.json.damaged"

    /// A state for `commit` from the journal's latest snapshot, marked `recovered`. Reads
    /// only; a journal that cannot be read gives an empty state (the scan that follows
    /// records drift again, with its own time as first sighting).
    static func rebuild(_ dir: StateDirectory, commit: String, why: String) -> DriftState {
        var s = DriftState(commit: commit)
        s.recovered = why
        // No journal yet is fine (nothing recorded to keep); one that cannot be read is said.
        let latest: SnapshotInfo?
        do { latest = try latestSnapshot(dir) } catch {
            s.recovered = "\(why); the journal could not be read either (\(errorText(error))), "
                + "so recorded drift is first seen now"
            return s
        }
        guard let info = latest, info.base.hex == commit else { return s }
        s.items = info.entries.map {
            DriftState.Item(path: PathBytes.escape($0.path), firstSeen: Timestamp.format($0.firstSeen),
                            change: $0.change, fileClass: $0.fileClass)
        }
        s.items.sort { a, b in
            PathBytes.less(PathBytes.unescape(a.path.utf8) ?? [], PathBytes.unescape(b.path.utf8) ?? [])
        }
        StateSummary.apply(&s.items)
        return s
    }

    /// The journal's latest snapshot record, opened read-only (no alternates rewritten).
    private static func latestSnapshot(_ dir: StateDirectory) throws -> SnapshotInfo? {
        let path = dir.file("journal.git")
        guard !FileSystem.isAbsent(path + "/objects") else { return nil }
        let repo = try GitRepository(path: path)
        guard let id = try repo.reference(Journal.ref) else { return nil }
        return try SnapshotInfo.read(repo, id)
    }

    /// Moves the unreadable `state.json` to `state.json.damaged` (the caller holds the lock
    /// and writes the rebuilt state next).
    static func moveAside(_ dir: StateDirectory) throws {
        let from = dir.file("state.json")
        let to = dir.file(asideName)
        do { try FileSystem.rename(from, to: to) } catch {
            if error == .noSuchFileOrDirectory { return }
            throw DriftError(.io, path: from, "cannot move the unreadable state file aside", errno: error)
        }
    }
}
