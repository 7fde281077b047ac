/// One site-packages change (filled by the pip layer; empty until a baseline exists).
public struct PipChange: Codable, Sendable {
    public var name: String?
    var change: PipChangeKind
    public var from: String?
    public var to: String?
    public var sitePackages: String
    public var files: [String]
    /// Accepted by the policy's `pip.allow`: reported as info, not drift.
    public var allowed: Bool
    /// Where an editable, VCS or URL install came from (`direct_url.json`).
    var url: String?
    /// How many files were left out of `files`: a scan lists the first `PipScanner.filesListed`
    /// of a `modified` or `unowned` change, `state.json` the first few (for `drift status`).
    var filesLeftOut: Int?

    public init(name: String?, change: PipChangeKind, from: String?, to: String?, sitePackages: String, files: [String],
                allowed: Bool, url: String? = nil) {
        self.name = name
        self.change = change
        self.from = from
        self.to = to
        self.sitePackages = sitePackages
        self.files = files
        self.allowed = allowed
        self.url = url
    }

    /// Keeps the first `n` files, counting the rest in `filesLeftOut`.
    mutating func listFirst(_ n: Int) {
        guard files.count > n else { return }
        filesLeftOut = (filesLeftOut ?? 0) + files.count - n
        files.removeSubrange(n...)
    }

    enum CodingKeys: String, CodingKey {
        case name, change, from, to, files, allowed, url
        case filesLeftOut = "files_left_out"
        case sitePackages = "site_packages"
    }
}
