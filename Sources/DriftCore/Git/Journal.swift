import Foundation

/// The journal: every distinct version of drifted code content, kept in a git object
/// store under the state dir as a chain of snapshot commits (filled in by the git issue).
public struct Journal {
    public var state: StateDirectory
    public var manifestDir: ManifestDirectory
    public var commit: String

    public init(state: StateDirectory, manifestDir: ManifestDirectory, commit: String) {
        self.state = state
        self.manifestDir = manifestDir
        self.commit = commit
    }

    public func record(_ changes: [FileChange], root: [UInt8], policy: Policy, now: Date) throws {}
}
