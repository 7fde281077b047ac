import Foundation
import DriftTestSupport
import Testing
@testable import DriftGit
@testable import DriftSystem

/// known_hosts matching, with lines written by OpenSSH's own ssh-keygen as the oracle.
@Suite("known_hosts")
struct KnownHostsTests {
    @Test("ports, wildcards, negation, hashed names, revoked keys, key types")
    func matching() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try sh("ssh-keygen -q -t ed25519 -N '' -f a && ssh-keygen -q -t ed25519 -N '' -f b && "
               + "ssh-keygen -q -t ecdsa -N '' -f c", cwd: dir.path)
        func key(_ n: String) throws -> (line: String, blob: [UInt8]) {
            let pub = try String(contentsOfFile: dir.sub(n + ".pub"), encoding: .utf8).split(separator: " ")
            return ("\(pub[0]) \(pub[1])", Array(Data(base64Encoded: String(pub[1])) ?? Data()))
        }
        let a = try key("a"), b = try key("b"), c = try key("c")
        // A hashed line for [git.example]:2222, hashed by ssh-keygen -H.
        try write(dir.sub("hashed"), "[git.example]:2222 \(a.line)\n")
        try sh("ssh-keygen -q -H -f hashed 2>/dev/null", cwd: dir.path)
        let hashed = try String(contentsOfFile: dir.sub("hashed"), encoding: .utf8)
        let text = """
            # comment
            plain.example,10.0.0.1 \(a.line)
            [plain.example]:2200 \(b.line)
            *.fleet.example,!bad.fleet.example \(a.line)
            @revoked * \(b.line)
            @cert-authority *.example \(c.line)
            \(hashed)
            garbage line
            """
        let kh = KnownHosts(file: "kh", text: Array(text.utf8))
        #expect(kh.check(name: "plain.example", key: a.blob) == .known)
        #expect(kh.check(name: "PLAIN.example", key: a.blob) == .known)
        #expect(kh.check(name: "10.0.0.1", key: a.blob) == .known)
        // Port 22 is the bare name; any other port is "[host]:port", with its own key.
        #expect(kh.check(name: KnownHosts.lookupName(host: "plain.example", port: 22), key: a.blob) == .known)
        #expect(kh.check(name: KnownHosts.lookupName(host: "plain.example", port: 2200), key: a.blob)
            == .changed(knownTypes: ["ssh-ed25519"], line: 3))
        #expect(kh.check(name: "[plain.example]:2201", key: a.blob) == .unknown)
        #expect(kh.check(name: "node1.fleet.example", key: a.blob) == .known)
        #expect(kh.check(name: "bad.fleet.example", key: a.blob) == .unknown)
        #expect(kh.check(name: "plain.example", key: c.blob) == .changed(knownTypes: ["ssh-ed25519"], line: 2))
        // A revoked key is refused for every host, even one that lists it.
        #expect(kh.check(name: "[plain.example]:2200", key: b.blob) == .revoked(line: 5))
        // Hashed: the exact name and port only.
        #expect(kh.check(name: "[git.example]:2222", key: a.blob) == .known)
        #expect(kh.check(name: "[git.example]:2223", key: a.blob) == .unknown)
        #expect(kh.check(name: "git.example", key: a.blob) == .unknown)
        #expect(KnownHosts.keyType(a.blob) == "ssh-ed25519" && KnownHosts.keyType(c.blob).hasPrefix("ecdsa-sha2-"))
        // The fingerprint is ssh-keygen's.
        let fp = try sh("ssh-keygen -l -E sha256 -f a.pub", cwd: dir.path).split(separator: " ")[1]
        #expect(KnownHosts.fingerprint(a.blob) == String(fp))
    }
}
