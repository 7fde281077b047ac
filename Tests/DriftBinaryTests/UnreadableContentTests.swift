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
               + " && mkdir -p -m 0700 '\(f.state)' && chown -R 65534 '\(f.state)'", cwd: f.workspace)
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
        // The value in code, a copy of the whole secret as code and as data, and a code symlink
        // whose target is the value: while .env cannot be read, none of them (nor any hash of
        // them) may leave.
        let f = try fixture("printf 'API_TOKEN=\(token)\\n' > .env && printf 'KEY = \"\(token)\"\\n' >> worker/util.py "
                            + "&& echo 'FIXED = 1' >> worker/main.py && cp .env worker/envcopy.py "
                            + "&& cp .env packages/models/env.bin && ln -s '\(token)' worker/link.py",
                            unreadable: ".env")
        defer { f.dir.remove() }
        let secretHash = try sh("printf 'API_TOKEN=\(token)\\n' | sha256sum | cut -c1-64")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let (r, json) = try scanAsNobody(f)
        #expect(r.code == 1, "\(r.err)")
        #expect(!r.out.contains(token) && !r.err.contains(token))
        #expect(!r.out.contains(secretHash), "the secret's hash left in the scan report")
        let out = f.dir.sub("out")
        try sh("mkdir -p '\(out)' && chown 65534 '\(out)'")
        let ex = try run(Self.asNobody + [driftBinary(), "export", "--manifest", f.mdir, "--state", f.state,
                                          "--output", out + "/x"])
        #expect(ex.code == 0, "\(ex.err)")
        let exported = try sh("cat '\(out)'/x/* 2>/dev/null | strings; true")
        #expect(!exported.contains(token) && !exported.contains(secretHash), "in the export: \(exported)")
        let errors = (json["errors"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(errors.contains(".env"), "\(r.out)")
        #expect(r.out.contains("could not be read to check drift for its values"))
        let leaked = try journalObjects(f)
        #expect(!leaked.contains(token), "\(leaked)")
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
        #expect(!diff2.out.contains(secretHash))
    }

    @Test("a drifted code file that becomes unreadable stays drifted with its first sighting; readable, it is recorded")
    func driftedThenUnreadable() throws {
        try #require(getuid() == 0, "needs root to run the scan as another user")
        let f = try fixture("echo 'FIXED = 6' >> worker/util.py")
        defer { f.dir.remove() }
        func firstSeen() throws -> String {
            let data = try Data(contentsOf: URL(fileURLWithPath: f.state + "/state.json"))
            let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            let items = obj["items"] as? [[String: Any]] ?? []
            return items.first { $0["path"] as? String == "worker/util.py" }?["first_seen"] as? String ?? "absent"
        }
        let (first, _) = try scanAsNobody(f)
        #expect(first.code == 1, "\(first.err)")
        let seen = try firstSeen()
        #expect(seen != "absent")
        try sh("chmod 000 worker/util.py", cwd: f.workspace)
        let (blind, json) = try scanAsNobody(f)
        #expect(blind.code == 3, "\(blind.out)\(blind.err)")
        #expect(((json["errors"] as? [[String: Any]]) ?? []).contains { $0["path"] as? String == "worker/util.py" })
        #expect(try firstSeen() == seen)
        try sh("chmod 644 worker/util.py", cwd: f.workspace)
        let (again, _) = try scanAsNobody(f)
        #expect(again.code == 1, "\(again.err)")
        #expect(try firstSeen() == seen)
        #expect(try journalObjects(f).contains("FIXED = 6"))
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
        // Words an old version (or a damaged record) wrote are one line, whatever they hold.
        #expect(!WithholdReason(text: "odd\nDrift-Id: 0000\u{1B}[2J").text.contains { $0.isNewline || $0 == "\u{1B}" })
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
