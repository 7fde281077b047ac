import DriftGit
import DriftSystem

/// The last look before drift's bytes leave the box (`drift export`, `drift push`): every
/// object and file is searched for the secrets known in *this* run, whatever the journal knew
/// when it wrote them. A snapshot journaled before its key was known (a cron scan without the
/// variable) still holds the key; so may an earlier export of a chain. docs/journal.md.
struct OutgoingSecrets {
    let secrets: SecretIndex
    /// Secret values, and the hex SHA-256 of each (a report or message could carry a hash),
    /// searched in one pass (`NeedleSet`).
    let needles: NeedleSet
    /// Each object's verdict, by scope: an export searches the snapshot's new blobs, then the
    /// chain up to its parent, then the chain with its commit, and every blob once is enough
    /// (incident 11, F2: each blob was searched twice, value by value).
    private let verdicts = Verdicts()

    private final class Verdicts {
        struct Key: Hashable {
            var id: ObjectID
            var scope: SecretScope
        }
        var held: [Key: Bool] = [:]
    }

    init(_ secrets: SecretIndex) throws {
        self.secrets = secrets
        var needles = secrets.values
        for v in secrets.values {
            needles.append(Array(try SHA256Hasher.digest(v).hex.utf8))
            needles.append(Array(try SHA256Hasher.digest(v + [0x0A]).hex.utf8))
        }
        self.needles = NeedleSet(needles)
    }

    /// Whether text that leaves (patch, report, message, a path) holds a secret value or its hash,
    /// or a released one (`ReleasedSearch`: a file named after an old token is the token).
    func holds(text bytes: [UInt8]) -> Bool {
        needles.isFound(in: bytes) || secrets.released.isFound(in: bytes)
    }

    /// Whether a git object that would leave holds a secret: a blob (file content or symlink
    /// target) is judged as the scan judges a file at a path of `scope`, commits and trees by
    /// their text. The secret values are among `needles`: one search covers both.
    func holds(object id: ObjectID, in odb: GitODB, scope: SecretScope) throws -> Bool {
        let key = Verdicts.Key(id: id, scope: scope)
        if let known = verdicts.held[key] { return known }
        let (type, bytes) = try odb.read(id)
        let held = holds(text: bytes) || (type == .blob && secrets.matchesBesideValues(bytes, scope: scope))
        verdicts.held[key] = held
        return held
    }

    /// What in a snapshot tree holds a secret.
    enum Hit: Equatable {
        /// The content (or symlink target) at this path.
        case content([UInt8])
        /// A path name itself (never shown: it is the secret).
        case name
    }

    /// The first path of `tree` beyond the base whose content or name holds a secret.
    func firstHit(tree: ObjectID, baseTree: ObjectID, repo: GitRepository) throws -> Hit? {
        let odb = try repo.odb()
        for ch in try repo.treeChanges(from: baseTree, to: tree, limit: Int.max) {
            if holds(text: ch.path) { return .name }
            guard let n = ch.new, n.mode != .tree, n.mode != .commit else { continue }
            if try holds(object: n.id, in: odb, scope: SecretScope(path: ch.path)) { return .content(ch.path) }
        }
        return nil
    }

    /// Whether any of these objects (a bundle's, a chain's) holds a secret; `fixtures` are the
    /// blobs found only at test-fixture paths (`ExportChain.fixtureBlobs`).
    func anyHolds(_ objects: [ObjectID], repo: GitRepository, fixtures: Set<ObjectID>) throws -> Bool {
        let odb = try repo.odb()
        for o in objects {
            let scope: SecretScope = fixtures.contains(o) ? .testFixture : .code
            if try holds(object: o, in: odb, scope: scope) { return true }
        }
        return false
    }

    /// The one line for a snapshot that holds a secret known now.
    static func staleSnapshot(_ hit: Hit, id: DriftID) -> DriftError {
        switch hit {
        case .content(let path):
            return DriftError(.secretWithheld, path: path, "journal snapshot \(id) holds a secret drift knows now "
                + "(journaled before it was known); run drift forget, then export again")
        case .name:
            return DriftError(.secretWithheld, "journal snapshot \(id): a file name holds a secret drift knows now; "
                + "rename or remove that file on the instance, then export again")
        }
    }
}

extension ScanRunner {
    /// The secrets known now (secret-class files, secret-named variables), without a scan:
    /// for verbs that ship journal content without scanning (`export --from-journal`, `push`).
    /// `forgotten`: the state's memory, whose released values must not leave either.
    func secretsNow(forgotten: ForgottenValues?) throws -> SecretIndex {
        var runner = self
        let c = try context ?? loadContext()
        runner.context = c
        if FileSystem.isAbsent(c.rootBytes) {
            // The box is gone (export from the state volume): its secret files went with it, so
            // what is shipped is checked against the environment and the known formats alone.
            Output.stderr("drift: note: \(PathBytes.display(c.rootBytes)) does not exist: outgoing content is checked "
                + "against secret-named environment variables and known credential formats only\n")
            let empty = TreeWalk(entries: [], issues: [], unreadableDirectories: [])
            var secrets = try SecretIndex(walk: empty, manifest: c.manifest, changes: [],
                                          reader: FileReader(root: c.rootBytes), environment: environment,
                                          names: c.policy.secretNames)
            secrets.released = ReleasedSearch(forgotten)
            return secrets
        }
        let loaded = try runner.loadAndWalk()
        var secrets = try SecretIndex(walk: loaded.walk, manifest: c.manifest, changes: [],
                                      reader: FileReader(root: c.rootBytes), environment: environment,
                                      names: c.policy.secretNames)
        secrets.released = ReleasedSearch(forgotten)
        return secrets
    }


}
