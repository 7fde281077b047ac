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
                let how: String
                switch e.reason {
                case .trailer: how = "reconciled by its Drift-Id trailer"
                case .superseded:
                    how = "superseded by drift \(e.supersededBy?.hex ?? "?"), which changed all its paths again"
                case .contained:
                    how = "reconciled: its whole change is already in this commit (its patch reverse-applies "
                        + "cleanly here; the files differ otherwise)"
                default: how = "reconciled by matching content"
                }
                out += "ok       drift \(e.id) from \(e.host): \(how)\n"
            case .waived:
                // A waiver passes the entry's code too: what it hides is said, never silent.
                let n = e.missing.count
                let hides = n == 0 ? "" : "; it also passes \(n) path\(n == 1 ? "" : "s") not upstream"
                out += "waived   drift \(e.id) from \(e.host): waiver until \(e.waiverExpires ?? "?")\(hides)\n"
                for p in e.missing.prefix(GatePathCap.perEntry) { out += "         not upstream (waived): \(p)\n" }
                if let rest = GatePathCap.rest(e.missing) {
                    out += "         \(GatePathCap.moreLine(rest, what: "not upstream (waived)"))\n"
                }
            case .missing, .withheld:
                let seen = e.firstSeen ?? "unknown"
                let head = e.status == .missing ? "MISSING " : "WITHHELD"
                out += "\(head) drift \(e.id) from \(e.host), base \(e.base?.hex.prefix(12) ?? "unknown"), "
                    + "first seen \(seen)\(age) (\(entryText(e.entry)))\n"
                if let x = e.expiredWaiver { out += "         waiver expired \(x)\n" }
                let host = annotationEscape(e.host, property: false)
                for p in e.missing.prefix(GatePathCap.perEntry) {
                    out += "         not upstream: \(p)\n"
                    if githubActions {
                        let file = annotationEscape(p, property: true)
                        out += "::error file=\(file)::drift \(e.id) from \(host) "
                            + "is not upstream (first seen \(seen))\n"
                    }
                }
                if let rest = GatePathCap.rest(e.missing) {
                    out += more(rest, what: "not upstream", e, host: host, githubActions)
                }
                let withheld = e.withheld ?? []
                for w in withheld.prefix(GatePathCap.perEntry) {
                    out += "         \(withheldWords): \(w.path) (\(w.change.rawValue), \(w.reason))\n"
                    if githubActions {
                        let file = annotationEscape(w.path, property: true)
                        out += "::error file=\(file)::drift \(e.id) from \(host): \(withheldWords) "
                            + "(\(annotationEscape(w.reason, property: false)))\n"
                    }
                }
                if let rest = GatePathCap.rest(withheld.map(\.path)) {
                    out += more(rest, what: "withheld", e, host: host, githubActions)
                }
            case .noBase, .invalid:
                let head = e.status == .invalid ? "INVALID " : "NO BASE "
                out += "\(head) drift \(e.id) from \(e.host): \(e.problem ?? "") (\(entryText(e.entry)))\n"
                if let x = e.expiredWaiver { out += "         waiver expired \(x)\n" }
                if githubActions {
                    out += "::error::drift \(e.id) from \(annotationEscape(e.host, property: false)): "
                        + "\(annotationEscape(e.problem ?? "", property: false))\n"
                }
            }
            if let s = e.supersededBy, e.status != .invalid {
                out += "         followed by drift \(s) from the same host\n"
            }
        }
        for f in r.image ?? [] {
            out += "\(f.ok ? "ok      " : "FAILED  ") image check \(f.check): \(f.detail)\n"
            for p in f.paths where !f.ok { out += "         \(p)\n" }
            if !f.ok && githubActions {
                out += "::error::image check \(f.check) failed: \(annotationEscape(f.detail, property: false))\n"
            }
        }
        let at = r.commit.map { " in \($0.prefix(12))" } ?? ""
        let entries = "\(r.entries.count) ledger entr\(r.entries.count == 1 ? "y" : "ies")"
        if r.ok {
            // Image mode alone judged no ledger: the line names only what was checked.
            let parts = (r.repo == nil ? [] : ["\(entries)\(at)"]) + (r.image == nil ? [] : ["image checks passed"])
            out += "gate: ok (\(parts.joined(separator: ", ")))\n"
        } else {
            out += "gate: REJECTED: \(rejectedLine(r, at: at))\n"
        }
        return out
    }

    /// The line (and annotation) counting an entry's paths past the cap: one annotation for
    /// them all, on no file, so CI's annotation limits keep the other entries'.
    private static func more(_ rest: GatePathCap.Rest, what: String, _ e: Gate.EntryResult,
                             host: String, _ githubActions: Bool) -> String {
        let line = GatePathCap.moreLine(rest, what: what)
        var out = "         \(line) (--format json lists them all)\n"
        if githubActions {
            out += "::error::drift \(e.id) from \(host): \(annotationEscape(line, property: false))\n"
        }
        return out
    }

    /// What was rejected: the ledger entries that fail (only when some do) and the image
    /// checks that failed, by name — never a count of nothing.
    static func rejectedLine(_ r: Gate.Report, at: String) -> String {
        var parts: [String] = []
        let ok: Set<GateStatus> = [.reconciled, .waived]
        if r.entries.contains(where: { !ok.contains($0.status) }) { parts.append(rejectedSummary(r.entries) + at) }
        let failed = (r.image ?? []).filter { !$0.ok }.map(\.check)
        if !failed.isEmpty {
            let n = failed.count
            parts.append("\(n) image check\(n == 1 ? "" : "s") failed (\(failed.joined(separator: ", ")))")
        }
        return parts.isEmpty ? "rejected" : parts.joined(separator: "; ")
    }

    /// `--format json`: the report, pretty, with empty lists written `[]`.
    public static func json(_ r: Gate.Report) throws -> [UInt8] {
        JSONCoding.compactEmptyContainers(try JSONCoding.encode(r))
    }

    /// Where an entry was read, for people: its directory under `--ledger` or its ref; `--ledger`
    /// naming one export's directory itself is the entry `.` in the JSON.
    static func entryText(_ entry: String) -> String {
        entry == "." ? "the --ledger directory itself" : entry
    }

    /// What withheld code needs, as every output says it.
    static let withheldWords = "withheld: reconcile by hand, then waive"

    /// `N drift entries not upstream`, or with the other kinds of rejection counted.
    static func rejectedSummary(_ entries: [Gate.EntryResult]) -> String {
        func count(_ s: GateStatus) -> Int { entries.filter { $0.status == s }.count }
        let kinds: [(GateStatus, String)] = [(.missing, "not upstream"), (.withheld, "withheld code"),
                                             (.noBase, "base not in this commit's history"), (.invalid, "invalid")]
        let counted = kinds.map { (count($0.0), $0.1) }.filter { $0.0 > 0 }
        let total = counted.reduce(0) { $0 + $1.0 }
        let head = "\(total) drift entr\(total == 1 ? "y" : "ies")"
        if counted.count == 1, counted[0].1 == "not upstream" { return head + " not upstream" }
        return head + " (" + counted.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + ")"
    }

    /// GitHub's workflow-command escaping.
    static func annotationEscape(_ s: String, property: Bool) -> String {
        var t = s.replacingEvery("%", with: "%25").replacingEvery("\r", with: "%0D").replacingEvery("\n", with: "%0A")
        if property { t = t.replacingEvery(":", with: "%3A").replacingEvery(",", with: "%2C") }
        return t
    }

    /// One SARIF result for an entry's paths past the cap, located at the directory they share.
    private static func sarifMore(_ rest: GatePathCap.Rest, what: String, rule: String,
                                  _ e: Gate.EntryResult) -> Sarif.Result {
        let text = "Drift \(e.id) from \(e.host): \(GatePathCap.moreLine(rest, what: what)) "
            + "(drift gate --format json lists them all)"
        let at = rest.under.map { [Sarif.Location(physicalLocation: Sarif.Physical(
            artifactLocation: Sarif.Artifact(uri: $0 + "/")))] }
        return Sarif.Result(ruleId: rule, message: Sarif.Text(text: text), locations: at,
                            properties: Sarif.Properties(driftId: e.id, host: e.host, base: e.base))
    }

    /// The run-level note when results were grouped or left out (nil: every path is a result).
    private static func sarifNote(grouped: Bool, omitted: Int) -> String? {
        var parts: [String] = []
        if grouped {
            parts.append("each entry names its first \(GatePathCap.perEntry) paths a rule, the rest in one result "
                         + "('\u{2026} and N more')")
        }
        if omitted > 0 {
            parts.append("\(omitted) results past \(GatePathCap.sarifResults) were left out (GitHub code scanning "
                         + "keeps \(GatePathCap.sarifResults) a run)")
        }
        guard !parts.isEmpty else { return nil }
        return parts.joined(separator: "; ") + "; drift gate --format json lists every path"
    }

    /// SARIF 2.1.0: one result per path still missing upstream (the first `GatePathCap.perEntry`
    /// of an entry; the rest grouped), one per failed image check.
    /// - Parameter informationUri: drift's documentation for the tool entry; omitted when nil
    ///   (never a placeholder).
    public static func sarif(_ r: Gate.Report, informationUri: String? = nil) throws -> [UInt8] {
        var results: [Sarif.Result] = []
        var grouped = false
        for e in r.entries where e.status == .missing {
            for p in e.missing.prefix(GatePathCap.perEntry) {
                let text = "Drift \(e.id) from \(e.host) (first seen \(e.firstSeen ?? "unknown")) is not upstream: \(p)"
                results.append(Sarif.Result(
                    ruleId: "drift/unreconciled", message: Sarif.Text(text: text),
                    locations: [Sarif.Location(
                        physicalLocation: Sarif.Physical(artifactLocation: Sarif.Artifact(uri: p)))],
                    properties: Sarif.Properties(driftId: e.id, host: e.host, base: e.base)))
            }
            if let rest = GatePathCap.rest(e.missing) {
                grouped = true
                results.append(sarifMore(rest, what: "not upstream", rule: "drift/unreconciled", e))
            }
        }
        for e in r.entries where e.status == .missing || e.status == .withheld {
            let withheld = e.withheld ?? []
            for w in withheld.prefix(GatePathCap.perEntry) {
                let text = "Drift \(e.id) from \(e.host) withheld \(w.path) (\(w.change.rawValue), \(w.reason)) "
                    + "from its patch: \(withheldWords)"
                results.append(Sarif.Result(
                    ruleId: "drift/withheld", message: Sarif.Text(text: text),
                    locations: [Sarif.Location(
                        physicalLocation: Sarif.Physical(artifactLocation: Sarif.Artifact(uri: w.path)))],
                    properties: Sarif.Properties(driftId: e.id, host: e.host, base: e.base)))
            }
            if let rest = GatePathCap.rest(withheld.map(\.path)) {
                grouped = true
                results.append(sarifMore(rest, what: "withheld", rule: "drift/withheld", e))
            }
        }
        // Past GitHub's limit, path results go (invalid entries and image checks are never left out).
        let pathResults = results.count
        for e in r.entries where e.status == .noBase || e.status == .invalid {
            let rule = e.status == .invalid ? "drift/invalid" : "drift/no-base"
            results.append(Sarif.Result(
                ruleId: rule, message: Sarif.Text(text: "Drift \(e.id) from \(e.host): \(e.problem ?? "")"),
                properties: Sarif.Properties(driftId: e.id, host: e.host, base: e.base)))
        }
        for f in r.image ?? [] where !f.ok {
            let text = "\(f.check): \(f.detail): \(f.paths.joined(separator: "; "))"
            results.append(Sarif.Result(ruleId: "drift/image", message: Sarif.Text(text: text)))
        }
        let rules = [
            Sarif.Rule(id: "drift/unreconciled",
                       shortDescription: Sarif.Text(text: "Instance drift not reconciled upstream")),
            Sarif.Rule(id: "drift/withheld",
                       shortDescription: Sarif.Text(text: "Code withheld from an export: "
                                                    + "reconcile by hand, then waive")),
            Sarif.Rule(id: "drift/no-base",
                       shortDescription: Sarif.Text(text: "The gated commit does not contain the image base")),
            Sarif.Rule(id: "drift/invalid",
                       shortDescription: Sarif.Text(text: "Ledger entry is not what it claims (id or ref name)")),
            Sarif.Rule(id: "drift/image", shortDescription: Sarif.Text(text: "Image check failed")),
        ]
        let driver = Sarif.Driver(name: "drift", informationUri: informationUri, rules: rules)
        let omitted = min(pathResults, max(0, results.count - GatePathCap.sarifResults))
        results.removeSubrange((pathResults - omitted)..<pathResults)
        let note = sarifNote(grouped: grouped, omitted: omitted)
        let doc = Sarif.Log(runs: [Sarif.Run(tool: Sarif.Tool(driver: driver), results: results,
                                             properties: note.map { Sarif.RunNote(driftNote: $0) })])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var out = JSONCoding.escapeControls(JSONCoding.compactEmptyContainers(Array(try encoder.encode(doc))))
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
        /// Present only when results were grouped or left out.
        var properties: RunNote?
    }
    struct RunNote: Encodable { var driftNote: String }
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
        var driftId: DriftID
        var host: String
        var base: ObjectID?
    }
}
