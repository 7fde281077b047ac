import Foundation
import Testing
@testable import DriftCore
import DriftGit
import DriftSystem

/// What drift cannot read is withheld with the reason, retried, and never guessed at: a secret
/// file it cannot read for values, and drifted code it cannot read at all.
@Suite("Unreadable content")
struct UnreadableContentTests {
    static let asNobody = getuid() == 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []

    func scanAsNobody(_ f: Fixture) throws -> (Run, [String: Any]) {
        let r = try run(Self.asNobody + [driftBinary(), "scan", "--manifest", f.mdir, "--state", f.state,
                                         "--format", "json"])
        let obj = (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
        return (r, obj)
    }

    /// A baked fixture after `edits` (a shell line run in the workspace): everything readable by
    /// everyone but `unreadable`, and a state dir that nobody (uid 65534) owns.
    func fixture(_ edits: String, unreadable: String? = nil) throws -> Fixture {
        let f = try Fixture()
        try f.bake()
        let lock = unreadable.map { " && chmod 000 '\($0)'" } ?? ""
        try sh(edits + " && chmod -R a+rX '\(f.dir.path)'" + lock
               + " && mkdir -p '\(f.state)' && chown -R 65534 '\(f.state)'", cwd: f.workspace)
        return f
    }

    func journalObjects(_ f: Fixture) throws -> String {
        try sh("git --git-dir='\(f.state)/journal.git' cat-file --batch-all-objects --batch 2>/dev/null || true")
    }

    @Test("""
        an unreadable secret file: code drift carrying its value (and all other code content) is withheld \
        as 'secret files unreadable', named in errors, and recorded once the secret can be read
        """)
    func unreadableSecret() throws {
        try #require(getuid() == 0, "needs root to run the scan as another user")
        let token = "tok-\(UInt64.random(in: 1...UInt64.max))"
        let f = try fixture("printf 'API_TOKEN=\(token)\\n' > .env && printf 'KEY = \"\(token)\"\\n' >> worker/util.py "
                            + "&& echo 'FIXED = 1' >> worker/main.py", unreadable: ".env")
        defer { f.dir.remove() }
        let (r, json) = try scanAsNobody(f)
        #expect(r.code == 1, "\(r.err)")
        #expect(!r.out.contains(token) && !r.err.contains(token))
        let errors = (json["errors"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(errors.contains(".env"), "\(r.out)")
        #expect(r.out.contains("could not be read to check code drift"))
        #expect(!(try journalObjects(f)).contains(token))
        let diff = try run(Self.asNobody + [driftBinary(), "diff", "--manifest", f.mdir, "--state", f.state])
        #expect(diff.out.contains("secret files unreadable") && !diff.out.contains(token), "\(diff.out)\(diff.err)")

        // Readable again: the next scan records the settled truth — util.py withheld as secret
        // content, main.py's fix in the journal.
        try sh("chmod 644 .env", cwd: f.workspace)
        let (again, _) = try scanAsNobody(f)
        #expect(again.code == 1, "\(again.err)")
        let objects = try journalObjects(f)
        #expect(!objects.contains(token))
        #expect(objects.contains("FIXED = 1"))
        let diff2 = try run(Self.asNobody + [driftBinary(), "diff", "--manifest", f.mdir, "--state", f.state])
        #expect(diff2.out.contains("secret content") && !diff2.out.contains("secret files unreadable"),
                "\(diff2.out)")
        #expect(diff2.out.contains("FIXED = 1") && !diff2.out.contains(token))
    }

    @Test("a scan as a service user whose HOME it cannot read (cron, supervisord user=) reads no git config")
    func unreadableHome() throws {
        try #require(getuid() == 0, "needs root to run the scan as another user")
        let f = try fixture("echo 'FIXED = 3' >> worker/util.py")
        defer { f.dir.remove() }
        try sh("mkdir -p home && chmod 700 home", cwd: f.dir.path)
        let home = ["env", "HOME=\(f.dir.sub("home"))", "XDG_CONFIG_HOME=\(f.dir.sub("home"))/.config"]
        let r = try run(home + Self.asNobody + [driftBinary(), "scan", "--manifest", f.mdir, "--state", f.state])
        #expect(r.code == 1 && r.err.isEmpty, "\(r.err)")
        #expect(r.out.contains("worker/util.py"))
    }

    @Test("drifted code drift cannot open is withheld as 'unreadable (Permission denied)', not as changed while read")
    func unreadableCode() throws {
        try #require(getuid() == 0, "needs root to run the scan as another user")
        let f = try fixture("echo 'FIXED = 2' >> worker/util.py", unreadable: "worker/util.py")
        defer { f.dir.remove() }
        // The scan (as root) hashes it; the journal's reader (as nobody, below) cannot open it.
        let reason = WithholdReason.unreadable("Permission denied")
        #expect(WithholdReason(text: reason.text) == reason)
        #expect(reason.text == "unreadable (Permission denied)")
        #expect(WithholdReason(text: WithholdReason.secretsUnreadable.text) == .secretsUnreadable)
        let tree = try DriftCoreTestAccess.withheldReasons(f, asUser: 65534)
        #expect(tree["worker/util.py"] == "unreadable (Permission denied)", "\(tree)")
    }
}

/// Runs the journal's tree builder in this process with the file-system uid of `uid` (Linux
/// keeps it per thread, and dropping it from 0 drops the file capabilities), so a file the
/// scan hashed as root cannot be opened when the journal reads it.
enum DriftCoreTestAccess {
    static func withheldReasons(_ f: Fixture, asUser uid: UInt32) throws -> [String: String] {
        try sh("chown -R \(uid) '\(f.mdir)'")
        let head = try sh("git -C '\(f.upstream)' rev-parse HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        let base = try #require(ObjectID(hex: head))
        let repo = try GitRepository(path: f.mdir + "/base.git")
        let builder = DriftTreeBuilder(repo: repo, baseCommit: base, reader: FileReader(root: Array(f.workspace.utf8)),
                                       sizeLimit: 1 << 20)
        let now = EntryState(kind: .regular, executable: false, size: 40, digest: nil)
        let change = FileChange(path: Array("worker/util.py".utf8), change: .modified, fileClass: .code, secret: false,
                                old: now, new: now, firstSeen: Date())
        // setfsuid(2) is not in Swift's Glibc module: looked up in libc.
        typealias SetFSUID = @convention(c) (UInt32) -> Int32
        let setfsuid = unsafeBitCast(try #require(dlsym(nil, "setfsuid")), to: SetFSUID.self)
        let previous = setfsuid(uid)
        defer { _ = setfsuid(UInt32(previous)) }
        let out = try builder.build([change])
        var reasons: [String: String] = [:]
        for (c, why) in out.withheld { reasons[String(decoding: c.path, as: UTF8.self)] = why.text }
        return reasons
    }
}
