import Foundation
import DriftTestSupport
import Testing
@testable import DriftGit
@testable import DriftSystem

/// The credential file: every key, and no secret echoed by its error messages.
@Suite("push credentials")
struct GitCredentialsTests {
    @Test("keys, comments, values with '=', and errors that never repeat a line")
    func parse() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let secret = "s3cr3t=with=equals"
        try write(dir.sub("ok"), """
            # push credentials
            username = deploy
            token = \(secret)
            ssh_key=/etc/drift/key
            known_hosts=/etc/drift/known_hosts
            ca_file=/etc/drift/ca.pem

            """)
        let c = try GitCredentials.load(file: dir.sub("ok"))
        #expect(c.username == "deploy" && c.token == secret && c.sshKey == Array("/etc/drift/key".utf8))
        #expect(c.knownHosts == Array("/etc/drift/known_hosts".utf8) && c.caFile == Array("/etc/drift/ca.pem".utf8))
        let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        #expect(c.scrub("x \(secret) y \(encoded)") == "x *** y ***")
        // A mistyped key or a line without '=': the error names the line, never its value.
        let noEquals = secret.replacingOccurrences(of: "=", with: "")
        for (name, text) in [("typo", "tokn=\(secret)\n"), ("noeq", "\(noEquals)\n"), ("oddkey", "\(secret)!=x\n")] {
            try write(dir.sub(name), text)
            do {
                _ = try GitCredentials.load(file: dir.sub(name))
                Issue.record("\(name): accepted")
            } catch let e as DriftError {
                #expect(!e.message.contains("s3cr3t"), "\(e.message)")
                #expect(e.message.contains(dir.sub(name)))
            }
        }
    }
}
