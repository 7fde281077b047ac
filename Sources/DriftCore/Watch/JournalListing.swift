import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The journal's latest snapshots for `drift status`: proof that a drift state existed even
/// when the workspace is clean again (an edit tried and reverted between two cron ticks).
public enum JournalListing {
    /// Newest first, read only (nothing in the state dir is written).
    /// - Throws: `GitError` when the journal exists but cannot be read (corrupt, unreadable).
    public static func render(state: StateDirectory, commit: String, limit: Int = 5) throws -> String {
        let path = state.file("journal.git")
        guard !FileSystem.isAbsent(path.appending(text: "/" + Journal.ref)),
              var id = try GitRepository(path: path).reference(Journal.ref) else { return "" }
        let repo = try GitRepository(path: path)
        var shown: [SnapshotInfo] = []
        var total = 0
        // First parents back to the base commit; bounded so a huge journal stays one screen's work.
        while id.hex != commit, total < 100_000 {
            total += 1
            if shown.count < limit {
                shown.append(try SnapshotInfo.read(repo, id))
            }
            guard let parent = try repo.parents(of: id).first else { break }
            id = parent
        }
        if total == 0 { return "" }
        var out = "\njournal: \(total) snapshot\(total == 1 ? "" : "s") (every distinct drift state recorded)"
        out += total > shown.count ? ", latest \(shown.count):\n" : ":\n"
        for s in shown {
            let names = s.entries.prefix(3).map { "\($0.change.rawValue) \(PathBytes.display($0.path))" }
            let paths = "\(s.pathCount) path\(s.pathCount == 1 ? "" : "s")"
            var line = "  \(Timestamp.format(s.time))  \(s.id)  \(paths)"
            if !names.isEmpty { line += ": " + names.joined(separator: ", ") + (s.entries.count > 3 ? ", …" : "") }
            if !s.pip.isEmpty { line += "; \(s.pip.count) pip change\(s.pip.count == 1 ? "" : "s")" }
            out += line + "\n"
        }
        return out
    }
}
