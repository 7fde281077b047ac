import ArgumentParser
import DriftCore
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Drift {
    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune",
            abstract: "Delete ledger refs whose drift is reconciled in a commit and older than an age.",
            discussion: """
                Judges every ref under --ledger-ref-prefix of --repo as `drift gate --ledger-refs` does, then \
                deletes the refs whose entries are reconciled in REV (trailer, content or superseded; never a \
                waiver) and were exported at least --older-than ago. A ref that is missing, withheld, waived, \
                invalid or moved is never deleted, nor one a kept ref follows (Drift-Follows, transitively: a \
                follow-up's patch needs the exports it follows); a hostile ref deletes nothing (exit 2). Run \
                with --dry-run first. Exit 0 done, 2 bad input.
                """)

        @Option(help: ArgumentHelp("Git repository holding the ledger refs.", valueName: "GITDIR"),
                completion: .directory)
        var repo: String
        @Option(help: ArgumentHelp("Revision the entries must be reconciled in.", valueName: "REV"))
        var commit: String = "HEAD"
        @Option(name: .customLong("older-than"),
                help: ArgumentHelp("Only entries exported at least this long ago (like 14d, 36h).", valueName: "DUR"))
        var olderThan: String
        @Option(name: .customLong("ledger-ref-prefix"),
                help: ArgumentHelp("Refs to consider: PREFIX and every ref under PREFIX/ (whole components).",
                                   valueName: "PREFIX"))
        var ledgerRefPrefix: String = "refs/drift/"
        @Flag(name: .customLong("dry-run"), help: "Print what would be deleted; delete nothing.")
        var dryRun = false
        @Option(help: "Output: text (one line a ref) or refs (only the names deleted, one a line).")
        var format: PruneFormat = .text

        func run() throws {
            let ms = try DurationText.milliseconds(olderThan, flag: "--older-than", bareUnitMs: 86_400_000,
                                                   min: 0, max: 100 * 365 * 86_400_000)
            var p = LedgerPrune(repo: try CommandLineBytes.path(repo), olderThan: TimeInterval(ms) / 1000)
            p.rev = commit
            p.prefix = ledgerRefPrefix
            p.dryRun = dryRun
            let decisions = try p.run(now: ProcessEnvironment.clock.now())
            var out = ""
            for d in decisions {
                switch format {
                case .refs:
                    if d.delete { out += d.ref + "\n" }
                case .text:
                    let verb = d.delete ? (dryRun ? "would delete" : "deleted     ") : "kept        "
                    out += "\(verb) \(d.ref) (drift \(d.id) from \(d.host)): \(d.why)\n"
                }
            }
            if format == .text {
                let n = decisions.filter(\.delete).count
                out += "prune: \(dryRun ? "would delete" : "deleted") \(n) of \(decisions.count) ledger ref"
                    + "\(decisions.count == 1 ? "" : "s")\n"
            }
            Output.stdout(out)
        }
    }
}

enum PruneFormat: String, ExpressibleByArgument, CaseIterable {
    case text, refs
}
