import Foundation

/// The gate's three output formats.
public enum GateOutput {
    /// Lines for people; under GitHub Actions also `::error file=…::` annotations.
    public static func text(_ r: Gate.Report, githubActions: Bool) -> String {
        var out = ""
        for e in r.entries {
            let age = e.ageSeconds.map { ", age \(formatAge($0))" } ?? ""
            switch e.status {
            case "reconciled":
                out += "ok       drift \(e.id) from \(e.host): reconciled by \(e.reason == "trailer" ? "its Drift-Id trailer" : "matching content")\n"
            case "waived":
                out += "waived   drift \(e.id) from \(e.host): waiver until \(e.waiverExpires ?? "?")\n"
            default:
                out += "MISSING  drift \(e.id) from \(e.host), base \(e.base.prefix(12)), first seen \(e.firstSeen ?? "unknown")\(age) (\(e.entry))\n"
                if let x = e.expiredWaiver { out += "         waiver expired \(x)\n" }
                for p in e.missing {
                    out += "         not upstream: \(p)\n"
                    if githubActions {
                        out += "::error file=\(annotationEscape(p, property: true))::drift \(e.id) from \(annotationEscape(e.host, property: false)) is not upstream (first seen \(e.firstSeen ?? "unknown"))\n"
                    }
                }
            }
        }
        for f in r.image ?? [] {
            out += "\(f.ok ? "ok      " : "FAILED  ") image check \(f.check): \(f.detail)\n"
            for p in f.paths where !f.ok { out += "         \(p)\n" }
            if !f.ok && githubActions { out += "::error::image check \(f.check) failed: \(annotationEscape(f.detail, property: false))\n" }
        }
        let missing = r.entries.filter { $0.status == "missing" }.count
        let at = r.commit.map { " in \($0.prefix(12))" } ?? ""
        out += r.ok ? "gate: ok (\(r.entries.count) ledger entr\(r.entries.count == 1 ? "y" : "ies")\(at)\(r.image == nil ? "" : ", image checks passed"))\n"
                    : "gate: REJECTED: \(missing) drift entr\(missing == 1 ? "y" : "ies") not upstream\(at)\(r.image?.contains { !$0.ok } == true ? "; image checks failed" : "")\n"
        return out
    }

    static func formatAge(_ s: Int) -> String {
        s >= 86_400 ? "\(s / 86_400)d\((s % 86_400) / 3600)h" : s >= 3600 ? "\(s / 3600)h\((s % 3600) / 60)m" : "\(s / 60)m"
    }

    /// GitHub's workflow-command escaping.
    static func annotationEscape(_ s: String, property: Bool) -> String {
        var t = s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
        if property { t = t.replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C") }
        return t
    }

    /// SARIF 2.1.0: one result per path still missing upstream, one per failed image check.
    public static func sarif(_ r: Gate.Report) throws -> [UInt8] {
        var results: [[String: Any]] = []
        for e in r.entries where e.status == "missing" {
            for p in e.missing {
                results.append([
                    "ruleId": "drift/unreconciled",
                    "level": "error",
                    "message": ["text": "Drift \(e.id) from \(e.host) (first seen \(e.firstSeen ?? "unknown")) is not upstream: \(p)"],
                    "locations": [["physicalLocation": ["artifactLocation": ["uri": p]]]],
                    "properties": ["driftId": e.id, "host": e.host, "base": e.base],
                ])
            }
        }
        for f in r.image ?? [] where !f.ok {
            results.append(["ruleId": "drift/image", "level": "error", "message": ["text": "\(f.check): \(f.detail): \(f.paths.joined(separator: "; "))"]])
        }
        let doc: [String: Any] = [
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [[
                "tool": ["driver": [
                    "name": "drift",
                    "informationUri": "https://example.invalid/drift",
                    "rules": [
                        ["id": "drift/unreconciled", "shortDescription": ["text": "Instance drift not reconciled upstream"]],
                        ["id": "drift/image", "shortDescription": ["text": "Image check failed"]],
                    ],
                ]],
                "results": results,
            ]],
        ]
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var out = JSONCoding.escapeControls(Array(try JSONSerialization.data(withJSONObject: doc, options: options)))
        out.append(0x0A)
        return out
    }
}
