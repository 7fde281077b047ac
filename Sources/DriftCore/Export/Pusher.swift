import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Sends exported drift to `refs/drift/<host>/<id>` on a git remote, so the fleet's drift
/// reaches CI (`drift gate --ledger-refs`) with no other service. Ids already pushed to a
/// remote are not pushed again.
public struct Pusher {
    public var manifestDir: ManifestDirectory
    public var state: StateDirectory
    /// The remote: a URL, or a local repository named by bytes (`GitRemote`).
    public var remote: GitRemote
    public var credentials: GitCredentials
    /// Where "now" comes from (`last_push` in state.json).
    public var clock: Clock = .system
    /// Seconds to wait for another run's state lock (`--wait`).
    public var waitSeconds: Double = 0
    /// The workspace root (`--root`), whose secret-class files are read for the re-check.
    public var root: [UInt8]?
    /// Environment variables the CLI read: those with secret names are secret values.
    public var environment = SecretEnvironment()
    /// The verb's context when `drift export --push` loaded it already (nil: read MDIR once here).
    public var context: ScanRunner.Context?
    /// The export's host when `drift export --push` knows it (nil: read from the export commit).
    public var host: String?

    public init(manifestDir: ManifestDirectory, state: StateDirectory, remote: GitRemote,
                credentials: GitCredentials) {
        self.manifestDir = manifestDir
        self.state = state
        self.remote = remote
        self.credentials = credentials
    }

    /// The remote ref an export goes to; the host part keeps only `[A-Za-z0-9._-]`.
    static func remoteRef(host: String, id: DriftID) -> String {
        let safe = String(host.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "-" })
        return "refs/drift/\(safe.isEmpty || safe.hasPrefix(".") ? "host" : safe)/\(id)"
    }

    /// Pushes an export's ledger commit to `refs/drift/<host>/<id>` on `remote`.
    /// - Parameter id: the export to push (default: the last export).
    /// - Returns: the remote ref, and false when it had been pushed to this remote before.
    /// - Throws: `DriftError` for an unknown export or bad credentials file; `GitError` when
    ///   the push fails (refused host key, certificate or credentials, rejected ref).
    public func push(id: DriftID? = nil) throws -> (ref: String, pushed: Bool) {
        var runner = ScanRunner(manifestDir: manifestDir, root: root, state: state)
        runner.environment = environment
        // One context for the verb: MDIR is read once (or not at all after `export --push`).
        let context = try self.context ?? runner.loadContext()
        runner.context = context
        let manifest = context.manifest
        let lock = try StateLock(state: state, wait: waitSeconds)
        defer { withExtendedLifetime(lock) {} }
        // Ledger commits stand alone: a state of another base (an archive, docs/state.md)
        // pushes its own exports; only the secrets known now come from the manifest's context.
        let own = try StateArchive.owner(state) ?? manifest.commit
        var st = try state.loadState(commit: own)
        // state.json keeps the id as text (its format): parsed here, at that edge.
        guard let id = try id ?? st.lastExportId.map({ text throws(DriftError) in try DriftID(parsing: text) }) else {
            throw DriftError(.notFound, path: state.path, "nothing exported yet; run drift export first")
        }
        let journal = Journal(state: state, manifestDir: manifestDir, commit: own)
        // An id is a `DriftID` (parsed where it was read): it never names a ref like `../` or `@{`.
        guard let repo = try journal.open(manifestCommit: manifest.commit),
              let commit = try repo.reference(Exporter.exportRef(id)) else {
            throw DriftError(.notFound, path: state.path, "no export \(id) in the journal")
        }
        guard let ledger = try repo.reference(LedgerCommit.journalRef(id)) else {
            throw DriftError(.stateDamaged, path: state.path,
                "export \(id) has no ledger commit (made by an older drift); "
                + "run drift export again")
        }
        guard let base = ObjectID(hex: own) else {
            throw DriftError(.stateDamaged, path: state.path, "bad base commit id \(own)")
        }
        let chain = ExportChain(repo: repo, base: base)
        try recheck(id: id, chain: try chain.objects(upTo: commit), fixtures: try chain.fixtureBlobs(upTo: commit),
                    ledger: ledger, repo: repo, runner: runner, forgotten: st.forgottenSources)
        // The Drift-Host trailer is the export's host quoted as a name: the same text either way.
        let host = try self.host.map { PathBytes.display(text: $0) }
            ?? DriftTrailers(try repo.message(of: commit)).host ?? SystemInfo.hostName()
        let ref = Self.remoteRef(host: host, id: id)
        // One remote, one key, however it is spelled; keys of older drift are read the same way.
        let key = RemoteKey.key(remote)
        let identity = RemoteKey.identity(key)
        let spellings = (st.pushed ?? [:]).keys.filter { RemoteKey.identity(RemoteKey.key($0)) == identity }
        if spellings.contains(where: { st.pushed?[$0]?.contains(id.hex) == true }) { return (ref, false) }
        let scratch = state.file(".push-\(SystemProcess.currentID)")
        let sent = try Self.pushAlone(ledger, from: repo, scratch: scratch, remote: remote,
                                      ref: ref, credentials: credentials)
        var ids: [String] = []
        for k in spellings.sorted() {
            ids += (st.pushed?[k] ?? []).filter { !ids.contains($0) }
            st.pushed?[k] = nil
        }
        st.pushed = st.pushed ?? [:]
        st.pushed?[key] = ids + [id.hex]
        let now = clock.now()
        st.lastPush = Timestamp.format(now)
        // The bundle of a follow-up carries its whole chain: paths exported as an earlier
        // export of the chain are on the remote now too.
        st.markPushed(try chain.ids(upTo: commit).map(\.hex), at: now)
        try state.saveState(st)
        return (ref, sent)
    }

    /// `drift push` without `--id`: every export of the local ledger not yet pushed to this
    /// remote, oldest first (a cron push after two exports sends the chain's first too: a
    /// follow-up and the gate need it). With none left, the last export as before (reported
    /// "already pushed"; "nothing exported yet" when there is none).
    /// - Returns: each export's remote ref, and whether it was sent (false: already there).
    public func pushUnpushed() throws -> [(ref: String, pushed: Bool)] {
        let ids = try unpushed()
        if ids.isEmpty { return [try push(id: nil)] }
        return try ids.map { try push(id: $0) }
    }

    /// The ids of the journal's ledger not in `pushed` for this remote, oldest export first.
    func unpushed() throws -> [DriftID] {
        let manifest = try context?.manifest ?? manifestDir.load().0
        let own = try StateArchive.owner(state) ?? manifest.commit
        let st = try state.loadState(commit: own)
        let journal = Journal(state: state, manifestDir: manifestDir, commit: own)
        guard let repo = try journal.open(manifestCommit: manifest.commit), let base = ObjectID(hex: own) else {
            return []
        }
        let identity = RemoteKey.identity(RemoteKey.key(remote))
        var done = Set<String>()
        for (k, ids) in st.pushed ?? [:] where RemoteKey.identity(RemoteKey.key(k)) == identity {
            done.formUnion(ids)
        }
        let chain = ExportChain(repo: repo, base: base)
        var found: [(id: DriftID, time: Date, depth: Int)] = []
        for (name, target) in try repo.referenceTargets(under: LedgerCommit.journalRefPrefix) where target != nil {
            let hex = String(name.dropFirst(LedgerCommit.journalRefPrefix.count))
            guard !done.contains(hex) else { continue }
            // A ledger ref drift did not write is refused by name, never skipped: skipping would
            // leave an export off the remote without a word.
            let id: DriftID
            do {
                id = try DriftID(parsing: hex)
            } catch {
                throw DriftError(.malformedID, "the journal's ledger ref \(PathBytes.display(text: name)) does not "
                                 + "name a drift id; delete it (git update-ref -d) and push again")
            }
            guard let commit = try repo.reference(Exporter.exportRef(id)) else { continue }
            found.append((id, try repo.commitTime(commit), try chain.ids(upTo: commit).count))
        }
        // A follow-up's chain holds its predecessors: deeper is later when the clock agrees.
        return found.sorted { ($0.time, $0.depth, $0.id.hex) < ($1.time, $1.depth, $1.id.hex) }.map(\.id)
    }

    /// An export made before a secret was known can hold it: the ledger commit (its files and
    /// message) and the export chain its bundle carries are searched for the secrets known now.
    private func recheck(id: DriftID, chain: [ObjectID], fixtures: Set<ObjectID>, ledger: ObjectID,
                         repo: GitRepository, runner: ScanRunner, forgotten: ForgottenValues?) throws {
        let outgoing = try OutgoingSecrets(try runner.secretsNow(forgotten: forgotten))
        let odb = try repo.odb()
        var held = try outgoing.anyHolds(chain, repo: repo, fixtures: fixtures)
            || outgoing.holds(text: try odb.read(ledger).1)
        // The bundle's pack is compressed: its objects are the chain's, searched above.
        for e in try repo.treeEntries(try repo.treeOf(commit: ledger)) where e.name != Array(Exporter.bundleFile.utf8) {
            held = try held || outgoing.holds(text: try odb.read(e.id).1)
        }
        if held {
            throw DriftError(.secretWithheld, path: state.path,
                "export \(id) holds a secret drift knows now (journaled before it was "
                + "known); nothing was pushed: run drift forget, then drift export and drift push again")
        }
    }

    /// Pushes a ledger commit from a scratch repository that holds only its objects: the
    /// remote's tips are then unknown locally, so libgit2's push walk hides nothing and walks
    /// no history, and the pack is exactly the commit, its tree and its blobs.
    static func pushAlone(_ ledger: ObjectID, from repo: GitRepository, scratch: [UInt8], remote: GitRemote,
                          ref: String, credentials: GitCredentials) throws -> Bool {
        try? FileSystem.removeTree(scratch)
        defer { try? FileSystem.removeTree(scratch) }
        let tree = try repo.treeOf(commit: ledger)
        let objects = try [ledger, tree] + repo.treeEntries(tree).map(\.id)
        // file:// is a repository on this machine: write into it directly (one ref lookup),
        // not through libgit2's local transport (a lookup per remote ref).
        // A byte path is one too (`GitRemote.path`).
        switch remote {
        case .path(let path):
            return try repo.pushDirectly(to: path, objects: objects, ref: ref, target: ledger)
        case .url(let url) where url.hasPrefix("file:///") && !url.contains("%"):
            return try repo.pushDirectly(to: String(url.dropFirst("file://".count)), objects: objects, ref: ref,
                                         target: ledger)
        case .url(let url):
            return try pushThroughScratch(ledger, objects, from: repo, scratch: scratch, url: url, ref: ref,
                                          credentials: credentials)
        }
    }

    /// `pushAlone` to a URL: libgit2's transport from a scratch repository of the objects alone.
    private static func pushThroughScratch(_ ledger: ObjectID, _ objects: [ObjectID], from repo: GitRepository,
                                           scratch: [UInt8], url: String, ref: String,
                                           credentials: GitCredentials) throws -> Bool {
        let alone = try GitRepository(initBare: scratch)
        // Objects in memory only: libgit2's push looks every remote tip up locally (to hide
        // it from the pack's walk), and on disk each tip it lacks was a miss costing ~8 system
        // calls and a pack-directory rescan; in a mempack a miss is a hash lookup, whatever the
        // remote's ref count.
        try alone.useMemoryObjectsOnly()
        let from = try repo.odb(), to = try alone.odb()
        for id in objects {
            let (type, bytes) = try from.read(id)
            try to.write(type, bytes)
        }
        let local = "refs/heads/ledger"
        try alone.setReference(local, to: ledger)
        return try alone.push(url: url, localRef: local, remoteRef: ref, credentials: credentials)
    }
}
