import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `gate --ledger-refs`: ledger entries pushed to `refs/drift/<host>/<id>` of the upstream
/// repository. Each ref's ledger commit (see `LedgerCommit`) is read into the files an
/// export directory holds, and those go through the very checks `--ledger DIR` applies.
extension LedgerReader {
    /// Every entry under `prefix`, in ref-name order: one pass over the refs, then per ref
    /// only its own commit, tree and blobs (nothing here walks history).
    /// A ref that fails a check is one `invalid` entry, judged with the others: a fleet's gate
    /// is not stopped by one host's bad ref (exit 1 naming it, not exit 2 judging nothing).
    func readRefs(prefix: String) throws -> [LedgerEntry] {
        try upstream.referenceTargets(under: prefix).map { ref in
            do {
                return try readLedgerRef(ref.name, ref.target)
            } catch let e as DriftError where e.code == .ledgerInvalid {
                return try Self.unreadable(ref.name, ref.target, problem: e.message)
            }
        }
    }

    /// The `invalid` entry standing for a ref that could not be read as one: its id is the one
    /// the ref's name claims (a name with none is still bad input, exit 2: nothing to report
    /// it by), nothing else of it is believed.
    static func unreadable(_ ref: String, _ target: ObjectID?, problem: String) throws -> LedgerEntry {
        let text = String(ref.split(separator: "/").last ?? "")
        guard let id = DriftID(text) else {
            throw DriftError(ledger: .ref(ref), "is not named \u{2026}/<host>/<drift id> (\(problem))")
        }
        let said = "ledger ref \(ref): "
        let why = problem.hasPrefix(said) ? String(problem.dropFirst(said.count)) : problem
        let none = ObjectID(hex: String(repeating: "0", count: 40))
        guard let placeholder = target ?? none else { throw DriftError(ledger: .ref(ref), why) }
        var e = LedgerEntry(name: ref, id: id, host: "unknown", base: placeholder, tip: placeholder, firstSeen: nil,
                            changes: [], baseKnown: false)
        e.unread = true
        e.invalid = why
        return e
    }

    func readLedgerRef(_ ref: String, _ target: ObjectID?) throws -> LedgerEntry {
        func bad(_ why: String) -> DriftError { DriftError(ledger: .ref(ref), why) }
        guard let tip = target else { throw bad("is a symbolic reference, not a ledger commit") }
        let message: String, parents: [ObjectID], tree: ObjectID
        do {
            message = try upstream.message(of: tip)
            parents = try upstream.parents(of: tip)
            tree = try upstream.treeOf(commit: tip)
        } catch { throw bad("does not point at a readable commit (\(errorText(error)))") }
        guard LedgerCommit.isLedger(message: message) else {
            // Before ledger commits, drift pushed the export commit itself (one parent: the base).
            if parents.count == 1 {
                guard DriftTrailers(message).id != nil else {
                    throw bad("is not a drift ledger commit (no \(Exporter.bundleFile), no '\(LedgerCommit.marker)' "
                              + "trailer) nor an older drift's export commit (no Drift-Id trailer)")
                }
                return Self.checkName(try readRef(ref), ref: ref)
            }
            throw bad("is neither a ledger commit (no '\(LedgerCommit.marker)' trailer) nor an export commit")
        }
        guard parents.isEmpty else { throw bad("a ledger commit must have no parent") }
        let files = try ledgerFiles(tree, bad)
        guard let bundle = files[Exporter.bundleFile] else { throw bad("its tree has no \(Exporter.bundleFile)") }
        let e = try entry(name: ref, bundle: bundle, patch: files[Exporter.patchFile],
                          report: files[Exporter.reportFile], bad)
        return Self.checkName(e, ref: ref)
    }

    /// A ref's name must be the one `drift push` gives the entry it holds:
    /// `…/<host>/<id>` with the entry's `Drift-Host` (as `Pusher.remoteRef` spells it) and
    /// Drift-Id. Otherwise the entry is `invalid`: one host's ref cannot pass for another's.
    static func checkName(_ entry: LedgerEntry, ref: String) -> LedgerEntry {
        guard entry.baseKnown, entry.invalid == nil else { return entry }
        var e = entry
        let parts = ref.split(separator: "/", omittingEmptySubsequences: false)
        let named = parts.suffix(2).joined(separator: "/")
        guard e.rawHost != nil else {
            e.invalid = "its export commit has no Drift-Host trailer, so no ref name can be checked"
            return e
        }
        let expected = Pusher.remoteRef(host: e.host, id: e.id).split(separator: "/").suffix(2).joined(separator: "/")
        if named != expected {
            e.invalid = "the ref is named \(named), but it holds export \(e.id) from \(e.host) (\(expected))"
        }
        return e
    }

    /// The blobs of a ledger commit's tree: only the export's file names, each a regular
    /// file within the limits `--ledger DIR` applies, sized before it is read.
    private func ledgerFiles(_ tree: ObjectID, _ bad: (String) -> DriftError) throws -> [String: [UInt8]] {
        let limits = [Exporter.bundleFile: LedgerLimits.bundleBytes, Exporter.patchFile: LedgerLimits.patchBytes,
                      Exporter.reportFile: LedgerLimits.reportBytes,
                      Exporter.pipFreezeFile: LedgerLimits.reportBytes]
        let db = try upstream.odb()
        var out: [String: [UInt8]] = [:]
        let entries: [GitTreeEntry]
        do { entries = try upstream.treeEntries(tree) } catch {
            throw bad("its tree is unreadable (\(errorText(error)))")
        }
        for e in entries {
            let name = String(decoding: e.name, as: UTF8.self)
            guard let limit = limits[name], Array(name.utf8) == e.name else {
                let expected = LedgerCommit.fileNames.joined(separator: ", ")
                throw bad("its tree holds '\(PathBytes.display(e.name))', not only \(expected)")
            }
            guard e.mode == .blob else { throw bad("\(name) is not a regular file in its tree") }
            let (type, size) = try db.header(e.id)
            guard type == .blob else { throw bad("\(name) is not a blob") }
            guard size <= limit else { throw bad("\(name) is over the \(limit >> 20) MiB limit") }
            out[name] = try db.read(e.id).1
        }
        return out
    }
}
