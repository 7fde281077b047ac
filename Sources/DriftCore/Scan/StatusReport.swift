import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `drift status`: one screen for a person on the instance, from the state dir alone
/// (no scan, no lock): base commit, last scan, drift items with age and deadline, exports.
public enum StatusReport {
    /// - Parameters:
    ///   - manifestDir: the manifest directory (its commit and root).
    ///   - state: the state directory to read (nothing is written).
    ///   - now: the time ages and deadlines are measured from.
    /// - Returns: the text screen.
    /// - Throws: `DriftError` when the manifest or state cannot be read.
    /// What the state dir alone can tell (the watcher, failed runs) under the lines known so
    /// far, with the error that stopped the status: it is most needed exactly then (a manifest
    /// that does not load or verify, a state that does not load; docs/operations.md).
    private static func partial(_ known: String, _ state: StateDirectory, now: Date, cause: Error) -> PartialStatus {
        let out = "drift status on \(SystemInfo.hostName())\n" + known + WatchStatus.statusLines(state, now: now)
            + RunFailure.statusLines(state, now: now)
        return PartialStatus(text: out, cause: cause)
    }

    public static func render(manifestDir: ManifestDirectory, state: StateDirectory, now: Date) throws -> String {
        let manifest: Manifest, policy: Policy
        do {
            (manifest, policy) = try manifestDir.load()
        } catch {
            throw partial("  manifest      \(manifestDir.shown): DOES NOT LOAD (see the error below)\n",
                          state, now: now, cause: error)
        }
        // A state of another base (a redeploy kept the volume; an archive) is shown as it is.
        let own: String, st: DriftState
        do {
            own = try StateArchive.owner(state) ?? manifest.commit
            st = try state.loadState(commit: own)
        } catch {
            throw partial("  base commit   \(manifest.commit)\n"
                          + "  state         \(state.shown): DOES NOT LOAD (see the error below)\n",
                          state, now: now, cause: error)
        }
        var out = header(manifest, policy, st, base: own, now: now)
        out += stateLines(state, own: own, manifestCommit: manifest.commit)
        out += damagedJournalLines(state, lastExport: st.lastExport.flatMap(Timestamp.parse))
        out += WatchStatus.statusLines(state, now: now)
        out += RunFailure.statusLines(state, now: now)
        let journal: String
        do { journal = try JournalListing.render(state: state, commit: own) } catch {
            throw PartialStatus(text: out, cause: error)
        }
        let pip = st.pip ?? []
        if st.items.isEmpty && pip.isEmpty {
            out += "\nno drift now\n" + journal
            return out
        }
        if !pip.isEmpty {
            out += "\n\(pip.count) pip change\(pip.count == 1 ? "" : "s") in site-packages:\n"
            for p in pip { out += "  " + ReportText.pipLine(p) + "\n" }
        }
        if st.items.isEmpty { return out + "\nno drifted paths\n" + journal }
        for note in BulkCodeAdds.notes(items: st.items) { out += "  bulk code     " + note }
        let paths = st.items.reduce(0) { $0 + ($1.count ?? 1) }
        out += "\n\(paths) drifted path\(paths == 1 ? "" : "s"):\n"
        for i in byClass(st.items) { out += itemLine(i, policy, now: now) + "\n" }
        return out + journal
    }

    /// The screen's head: host, base commit, workspace, last scan, deadline, exports, pushes.
    /// `base`: the state's own base commit (an archived or not yet moved state of an earlier
    /// image is shown as that base's, not the manifest's).
    private static func header(_ manifest: Manifest, _ policy: Policy, _ st: DriftState, base: String,
                               now: Date) -> String {
        var out = "drift status on \(SystemInfo.hostName())\n"
        out += "  base commit   \(base)\n"
        out += "  workspace     \(PathBytes.display(manifest.root))\n"
        if let last = st.lastScan {
            let result: String
            switch st.lastExitCode.flatMap(ScanOutcome.init(recordedCode:)) {
            case .clean: result = "clean"
            case .drift: result = "drift"
            case .incomplete: result = "incomplete (unreadable entries)"
            case nil: result = "exit \(st.lastExitCode.map(String.init) ?? "?")"
            }
            let ago = Timestamp.parse(last).map { " (" + AgeText.format(now.timeIntervalSince($0)) + " ago)" } ?? ""
            out += "  last scan     \(last)\(ago): \(result)\n"
        } else {
            out += "  last scan     never\n"
        }
        let stop = policy.deadlineStop == .push ? "exported and pushed" : "exported"
        let deadlineText = policy.deadline.map { "\($0.text) (the clock stops once a path is \(stop))" }
        out += "  deadline      \(deadlineText ?? "none set in the policy")\n"
        out += "  last export   \(st.lastExport.map { "\($0) (drift \(st.lastExportId ?? "?"))" } ?? "never")\n"
        let pushes = Self.pushedByRemote(st.pushed ?? [:]).map { "\($0.ids.count) to \($0.key)" }.sorted()
        let pushedText = pushes.isEmpty ? "nothing" : pushes.joined(separator: ", ")
        let lastPushText = st.lastPush.map { ", last \($0)" } ?? ""
        out += "  pushed        \(pushedText)\(lastPushText)\n"
        out += rememberedLines(JournalForget.remembered(st), learned: st.forgottenSources?.learned)
        if let cause = st.withholding { out += withholdingLines(cause) }
        let released = ForgottenValues.releasedNames(st.forgottenSources)
        if !released.isEmpty {
            out += "  released      \(released.map(PathBytes.display).joined(separator: ", ")): content holding "
                + "their old values stays withheld\n"
        }
        return out
    }

    /// The standing row for a scan that withheld every drifted file's content (incident 12,
    /// F11), wrapped at word boundaries.
    static func withholdingLines(_ cause: String) -> String {
        let indent = String(repeating: " ", count: 16)
        var out = ""
        var line = "  withholding   content of every drifted file:"
        for word in cause.split(separator: " ") {
            if line.count + 1 + word.count > 118 {
                out += line + "\n"
                line = indent + word
            } else {
                line += " " + word
            }
        }
        return out + line + "\n"
    }

    /// How many remembered sources the status names before "and N more".
    static let rememberedShown = 8

    /// The remembered secret sources (`forgotten_sources`), named for what they are, wrapped and
    /// limited (incident 11, F3: one 600-column `forgotten` line nobody had forgotten), and, until
    /// a forget looks, that the journal may hold a value learned later (F8).
    static func rememberedLines(_ names: [[UInt8]], learned: String?) -> String {
        var out = ""
        let indent = String(repeating: " ", count: 16)
        if !names.isEmpty {
            let count = names.count == 1 ? "1 source" : "\(names.count) sources"
            out += "  remembered    secret values of \(count) a run must know, or it withholds drifted content:\n"
            var shown = names.prefix(rememberedShown).map(PathBytes.display)
            if names.count > rememberedShown { shown.append("and \(names.count - rememberedShown) more") }
            var line = indent
            for (i, name) in shown.enumerated() {
                let piece = name + (i + 1 < shown.count ? "," : "")
                if line.count > indent.count && line.count + 1 + piece.count > 110 {
                    out += line + "\n"
                    line = indent
                }
                line += (line.count > indent.count ? " " : "") + piece
            }
            out += line + "\n"
            out += indent + "(found in drifted content, learned after content was journaled, or purged by drift\n"
            out += indent + "forget; one that will not come back: drift forget --release NAME; docs/secrets.md,\n"
            out += indent + "\"Forgotten sources remembered\")\n"
        }
        if let learned {
            out += "  forget        a run at \(learned) learned secret value(s) after content was journaled:\n"
            out += indent + "the journal may hold one until drift forget runs (docs/secrets.md)\n"
        }
        return out
    }

    /// Whose state this is when not the manifest's base, and the archives under `previous/`
    /// (docs/state.md, "A new base commit").
    private static func stateLines(_ state: StateDirectory, own: String, manifestCommit: String) -> String {
        var out = ""
        if let m = StateArchive.marker(state) {
            out += "  state         archived: base commit \(m.base), moved aside at \(m.archivedAt) when base "
                + "\(m.newBase) came (read only: drift push, log, status)\n"
        } else if own != manifestCommit {
            out += "  state         of base commit \(own), not the manifest's: the next drift scan or watch moves it "
                + "to \(PathBytes.display(state.file(StateArchive.directory)))/ and starts clean\n"
        }
        let prev = state.file(StateArchive.directory)
        let names = FileSystem.isAbsent(prev) ? [] : (directoryEntries(prev) ?? []).filter {
            $0.first != 0x2E && !JournalDamage.isSetAsideName($0)
        }
        // Newest first (`<base>-<time>`): a box redeployed many times shows three and a count.
        let byTime = names.sorted { $0.drop { $0 != 0x2D }.lexicographicallyPrecedes($1.drop { $0 != 0x2D }) }
        for n in byTime.reversed().prefix(3) {
            out += "  previous      \(PathBytes.display(PathBytes.join(prev, n))): an earlier base's state "
                + "(drift push REMOTE --state it sends exports not pushed yet)\n"
        }
        if byTime.count > 3 {
            out += "                and \(byTime.count - 3) older under \(PathBytes.display(prev))/\n"
        }
        return out
    }

    /// The journals a run could not read and set aside since the last export (`JournalDamage`):
    /// what was recorded before is only there until an export records the drift anew.
    private static func damagedJournalLines(_ state: StateDirectory, lastExport: Date?) -> String {
        var out = ""
        for j in JournalDamage.setAside(in: state, since: lastExport) {
            out += "  journal       DAMAGED: set aside at \(Timestamp.format(j.at)) to \(PathBytes.display(j.path)) "
                + "(unreadable; a new journal was started, snapshots before are only there)\n"
        }
        return out
    }

    /// Code first, then config, then data, each in the state's order (incident 12, F2: 500 data
    /// directory lines came before the hotfix's 7 code paths).
    static func byClass(_ items: [DriftState.Item]) -> [DriftState.Item] {
        let rank = items.indices.map { (items[$0].fileClass ?? .code, $0) }
        return rank.sorted { $0 < $1 }.map { items[$0.1] }
    }

    /// One drifted item: change, class, path, and for a path on the clock its age, export,
    /// push and reconciliation, and its deadline.
    private static func itemLine(_ i: DriftState.Item, _ policy: Policy, now: Date) -> String {
        let first = Timestamp.parse(i.firstSeen)
        var line = "  \(i.change.rawValue.padded(to: 9))\((i.fileClass?.rawValue ?? "").padded(to: 7)) "
        let name = PathBytes.unescape(i.path.utf8).map(PathBytes.display) ?? PathBytes.display(text: i.path)
        // A summary item (docs/state.md): "70000 under packages/models/x/".
        line += i.count.map { "\($0) under \(i.path.isEmpty ? "the root" : name)" } ?? name
        if let first, let duty = i.duty(stop: policy.deadlineStop) {
            line += "  age \(AgeText.format(now.timeIntervalSince(first)))"
            if duty.restarted { line += ", changed again \(Timestamp.format(duty.clockStarted))" }
            // The time of the export the id names (withheld code names a chain's latest export).
            if let at = duty.exportIdAt, let id = duty.exportId {
                line += "  exported \(at) as \(id)" + (duty.pushedAt.map { ", pushed \($0)" } ?? "")
            }
            if let c = duty.reconciledIn {
                line += "; reconciled upstream in \(c.prefix(12)), waiting for redeploy"
            }
            if duty.exportWithheld && duty.exportedAt != nil && i.fileClass == .code {
                line += "; withheld from the export: reconcile by hand"
            }
            if duty.handled {
                // With no deadline in the policy there is none to have met.
                if policy.deadline != nil { line += "  (deadline met)" }
            } else if let d = policy.deadline {
                let due = d.due(after: duty.clockStarted)
                line += due <= now
                    ? "  OVERDUE since \(Timestamp.format(due))"
                    : "  due in \(AgeText.format(due.timeIntervalSince(now)))"
            }
        }
        return line
    }

    /// `pushed` by remote: keys of one remote under several spellings (older drift keyed the
    /// URL as typed) counted once, named by the newest key with a user when one has one.
    static func pushedByRemote(_ pushed: [String: [String]]) -> [(key: String, ids: Set<String>)] {
        var groups: [String: (key: String, ids: Set<String>)] = [:]
        for (raw, ids) in pushed.sorted(by: { $0.key < $1.key }) {
            let key = RemoteKey.key(raw)
            let identity = RemoteKey.identity(key)
            var g = groups[identity] ?? (key, [])
            if RemoteKey.identity(g.key) == g.key && key != identity { g.key = key }
            g.ids.formUnion(ids)
            groups[identity] = g
        }
        return Array(groups.values)
    }
}

/// `drift status` when the manifest does not load or verify: the part of the screen the
/// state dir alone gives, and the error (the command prints both, exit 2).
public struct PartialStatus: Error {
    public let text: String
    public let cause: Error
}
