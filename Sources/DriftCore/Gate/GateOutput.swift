import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The gate's three output formats.
public enum GateOutput {
    /// Lines for people; under GitHub Actions also `::error file=…::` annotations.
    public static func text(_ r: Gate.Report, githubActions: Bool) -> String {
        var out = ""
        for e in r.entries {
            let age = e.ageSeconds.map { ", age \(AgeText.format(seconds: $0, style: .compact))" } ?? ""
            switch e.status {
            case .reconciled:
                let how = e.reason == .trailer ? "its Drift-Id trailer" : "matching content"
                out += "ok       drift \(e.id) from \(e.host): reconciled by \(how)\n"
            case .waived:
                out += "waived   drift \(e.id) from \(e.host): waiver until \(e.waiverExpires ?? "?")\n"
            case .missing:
                let seen = e.firstSeen ?? "unknown"
                out += "MISSING  drift \(e.id) from \(e.host), base \(e.base.prefix(12)), "
                    + "first seen \(seen)\(age) (\(e.entry))\n"
                if let x = e.expiredWaiver { out += "         waiver expired \(x)\n" }
                for p in e.missing {
                    out += "         not upstream: \(p)\n"
                    if githubActions {
                        let file = annotationEscape(p, property: true)
                        let host = annotationEscape(e.host, property: false)
                        out += "::error file=\(file)::drift \(e.id) from \(host) "
                            + "is not upstream (first seen \(seen))\n"
                    }
                }
            }
        }
        for f in r.image ?? [] {
            out += "\(f.ok ? "ok      " : "FAILED  ") image check \(f.check): \(f.detail)\n"
            for p in f.paths where !f.ok { out += "         \(p)\n" }
            if !f.ok && githubActions {
                out += "::error::image check \(f.check) failed: \(annotationEscape(f.detail, property: false))\n"
            }
        }
        let missing = r.entries.filter { $0.status == .missing }.count
        let at = r.commit.map { " in \($0.prefix(12))" } ?? ""
        let entries = "\(r.entries.count) ledger entr\(r.entries.count == 1 ? "y" : "ies")"
        let passedNote = r.image == nil ? "" : ", image checks passed"
        let failedNote = r.image?.contains { !$0.ok } == true ? "; image checks failed" : ""
        let plural = missing == 1 ? "y" : "ies"
        out += r.ok ? "gate: ok (\(entries)\(at)\(passedNote))\n"
                    : "gate: REJECTED: \(missing) drift entr\(plural) not upstream\(at)\(failedNote)\n"
        return out
    }

    /// GitHub's workflow-command escaping.
    static func annotationEscape(_ s: String, property: Bool) -> String {
        var t = s.replacingEvery("%", with: "%25").replacingEvery("\r", with: "%0D").replacingEvery("\n", with: "%0A")
        if property { t = t.replacingEvery(":", with: "%3A").replacingEvery(",", with: "%2C") }
        return t
    }

    /// SARIF 2.1.0: one result per path still missing upstream, one per failed image check.
    /// - Parameter informationUri: drift's documentation for the tool entry; omitted when nil
    ///   (never a placeholder).
    public static func sarif(_ r: Gate.Report, informationUri: String? = nil) throws -> [UInt8] {
        var results: [Sarif.Result] = []
        for e in r.entries where e.status == .missing {
            for p in e.missing {
                let text = "Drift \(e.id) from \(e.host) (first seen \(e.firstSeen ?? "unknown")) is not upstream: \(p)"
                results.append(Sarif.Result(
                    ruleId: "drift/unreconciled", message: Sarif.Text(text: text),
                    locations: [Sarif.Location(
                        physicalLocation: Sarif.Physical(artifactLocation: Sarif.Artifact(uri: p)))],
                    properties: Sarif.Properties(driftId: e.id, host: e.host, base: e.base)))
            }
        }
        for f in r.image ?? [] where !f.ok {
            let text = "\(f.check): \(f.detail): \(f.paths.joined(separator: "; "))"
            results.append(Sarif.Result(ruleId: "drift/image", message: Sarif.Text(text: text)))
        }
        let rules = [
            Sarif.Rule(id: "drift/unreconciled",
                       shortDescription: Sarif.Text(text: "Instance drift not reconciled upstream")),
            Sarif.Rule(id: "drift/image", shortDescription: Sarif.Text(text: "Image check failed")),
        ]
        let driver = Sarif.Driver(name: "drift", informationUri: informationUri, rules: rules)
        let doc = Sarif.Log(runs: [Sarif.Run(tool: Sarif.Tool(driver: driver), results: results)])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var out = JSONCoding.escapeControls(Array(try encoder.encode(doc)))
        out.append(0x0A)
        return out
    }
}

/// The SARIF 2.1.0 subset drift writes.
enum Sarif {
    struct Log: Encodable {
        var schema = "https://json.schemastore.org/sarif-2.1.0.json"
        var version = "2.1.0"
        var runs: [Run]
        enum CodingKeys: String, CodingKey {
            case schema = "$schema"
            case version, runs
        }
    }
    struct Run: Encodable {
        var tool: Tool
        var results: [Result]
    }
    struct Tool: Encodable { var driver: Driver }
    struct Driver: Encodable {
        var name: String
        var informationUri: String?
        var rules: [Rule]
    }
    struct Rule: Encodable {
        var id: String
        var shortDescription: Text
    }
    struct Text: Encodable { var text: String }
    struct Result: Encodable {
        var ruleId: String
        var level = "error"
        var message: Text
        var locations: [Location]?
        var properties: Properties?
        init(ruleId: String, message: Text, locations: [Location]? = nil, properties: Properties? = nil) {
            self.ruleId = ruleId
            self.message = message
            self.locations = locations
            self.properties = properties
        }
    }
    struct Location: Encodable { var physicalLocation: Physical }
    struct Physical: Encodable { var artifactLocation: Artifact }
    struct Artifact: Encodable { var uri: String }
    struct Properties: Encodable {
        var driftId: String
        var host: String
        var base: String
    }
}
