import DriftSystem

/// The notes a run gives about its secret sources when they cost nothing now: sources it
/// misses while nothing drifted is withheld for them (incident 11, F9), and values it learned
/// after content was journaled (F8). One text for `drift scan` and `drift watch`.
extension SecretIndex {
    /// The one stderr line for remembered sources this run misses while no drifted content is
    /// withheld for them (nil: none, or they are the scan's errors). A clean workspace is clean:
    /// there is nothing to withhold, so the run is complete (exit 0), but the next drift will be.
    public var absentNote: String? {
        guard absentNoted, !missingSources.isEmpty || !missingForgotten.isEmpty else { return nil }
        var out = ""
        if !missingForgotten.isEmpty {
            let names = missingForgotten.map(PathBytes.display).joined(separator: ", ")
            out += "drift: note: remembered secret value(s) of \(names) not in this run's environment or secret "
                + "files; nothing drifted carries content now, so nothing is withheld, but drifted content will be "
                + "until they are back; for one that will not come back (rotated, removed, the container "
                + "recreated without it): drift forget --release NAME (docs/secrets.md, "
                + "\"Forgotten sources remembered\")\n"
        }
        if !missingSources.isEmpty {
            let names = missingSources.map(PathBytes.display).joined(separator: ", ")
            out += "drift: note: \(names), secret-named variable(s) of the container's main process on earlier "
                + "runs, not there now; nothing drifted carries content now, so nothing is withheld, but drifted "
                + "content will be until they are (docs/secrets.md, \"Secret sources remembered\")\n"
        }
        return out
    }

    /// The one stderr line for a run that knows more secret values than the last one while the
    /// journal holds snapshots: content journaled before may hold one.
    public static func learnedNote(_ count: Int) -> String {
        "drift: note: \(count) secret value(s) more than at the last scan; "
            + "content journaled before may hold one: run `drift forget` (docs/secrets.md)\n"
    }

    /// Whether a remembered source's name is a variable's (`[A-Za-z_][A-Za-z0-9_]*`, what a shell,
    /// Docker's `-e` and supervisord's `environment=` set) rather than a secret file's path.
    static func isVariableName(_ name: [UInt8]) -> Bool {
        guard let first = name.first, first == UInt8(ascii: "_") || SecretFormats.isUpper(first)
              || SecretFormats.isLower(first) else {
            return false
        }
        return name.allSatisfy { $0 == UInt8(ascii: "_") || SecretFormats.isAlnum($0) }
    }
}
