import DriftSystem

/// Why a run withholds every drifted file's content, in one line naming the missing sources and
/// the remedy: `drift status` (from the state), `drift diff` and `drift export` say it instead of
/// "secret files unreadable" when no secret file is unreadable (incident 12, F11: a rotated
/// `-e` token withheld everything and only the boot scan's discarded report said why).
extension SecretIndex {
    /// Where each missing forgotten source's name is now (`origins`, set by the scan from its
    /// environment): a variable with the same name and another value is a rotation.
    mutating func noteOrigins(_ environment: SecretEnvironment) {
        var found: [[UInt8]: SecretEnvironment.Origin] = [:]
        for v in environment.variables where found[v.name] == nil { found[v.name] = v.origin }
        forgottenOrigins = missingForgotten.reduce(into: [:]) { out, name in out[name] = found[name] }
    }

    /// The line, nil while every source is known (nothing is withheld for all drift).
    public var withholdingCause: String? {
        if complete { return nil }
        var parts: [String] = []
        for e in unreadable {
            parts.append("\(PathBytes.display(e.path)) (a secret file) cannot be read (\(e.reason))")
        }
        for name in missingSources {
            parts.append("\(PathBytes.display(name)) (PID 1's environment on earlier runs) is not readable now: "
                + "run drift as root inside the container's PID namespace")
        }
        for name in missingForgotten {
            let n = PathBytes.display(name)
            let source: String
            if !Self.isVariableName(name) {
                source = "\(n) (a secret file) changed or is gone"
            } else {
                switch forgottenOrigins[name] {
                case .mainProcess: source = "\(n) (PID 1's environment) holds another value now"
                case .drift: source = "\(n) (drift's own environment) holds another value now"
                case .supervisord: source = "\(n) (a supervisord program's environment) holds another value now"
                case nil: source = "\(n) (an environment variable) is in no environment drift reads now"
                }
            }
            parts.append(source + "; if it will not come back (rotated, removed): drift forget --release \(n)")
        }
        return parts.joined(separator: "; ")
    }

    /// The short reason a withheld path's diff line gives (`# drift: … content withheld (…)`).
    public var withholdingShort: String? {
        if complete { return nil }
        if !unreadable.isEmpty { return WithholdReason.secretsUnreadable.text }
        let names = (missingSources + missingForgotten).map(PathBytes.display).joined(separator: ", ")
        return "secret source missing: \(names)"
    }
}
