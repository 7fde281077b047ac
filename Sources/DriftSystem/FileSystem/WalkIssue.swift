/// A path a walk could not read or check: handed back with the entries, never stopping the walk
/// (a scan reports them in `errors`).
public struct WalkIssue: Sendable, Equatable {
    public var path: [UInt8]
    public var message: String
    /// A directory whose contents are unknown: nothing below it may be called deleted.
    public var unreadableDirectory: Bool
    /// A directory past `WalkLimit`: not read on purpose (readable, but too deep to walk).
    public var beyondLimit: Bool

    public init(path: [UInt8], message: String, unreadableDirectory: Bool = false, beyondLimit: Bool = false) {
        self.path = path
        self.message = message
        self.unreadableDirectory = unreadableDirectory
        self.beyondLimit = beyondLimit
    }
}
