import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Many config or data files of one change in one directory, recorded in a snapshot
/// as one entry (`drift.snapshot/2`, docs/journal.md "Summarised directories"), the way
/// `git status` shows an untracked directory as one line: a million unpacked model shards
/// cost one entry, one message line and one Drift-Id input, not a million of each.
public struct SnapshotSummary: Sendable, Equatable {
    /// How many files.
    var count: Int
    /// Their sizes now, summed (a deleted file counts 0).
    var bytes: Int64
    /// SHA-256 of the lines `<escaped path below the directory> <git mode or -> <sha256 or ->\n`
    /// of its files, sorted by path: any file added, removed, renamed or changed changes it.
    var digest: Digest

    /// More files than this of one change and class directly in one directory are one
    /// summary: the threshold `state.json` summarises with (`StateSummary.perDirectory`).
    static let threshold = StateSummary.perDirectory
    /// A snapshot with more entries than this folds config/data by directory depth
    /// (`StateSummary.maxItems`, the state's cap).
    static let maxEntries = StateSummary.maxItems

    /// Whether `change`, withheld for `reason`, may be folded into a summary: config and data
    /// withheld for their class alone. Code (an export needs each file), bytecode evidence,
    /// secrets and anything withheld for another reason (changed while read, unreadable) stay
    /// entries of their own, named one by one.
    static func foldable(_ c: FileChange, _ reason: WithholdReason) -> Bool {
        guard c.fileClass == .config || c.fileClass == .data else { return false }
        return !c.secret && c.change != .bytecode && reason == .notCode(c.fileClass)
    }
}
