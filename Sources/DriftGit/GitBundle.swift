import DriftSystem
/// Writes git bundles (v2): libgit2 has no writer, and the format is a text header plus
/// a pack — `# v2 git bundle`, `-<prerequisite> <comment>` lines, `<id> <ref>` lines, a
/// blank line, then the pack.
public enum GitBundle {
    public static func make(prerequisite: ObjectID, comment: String, tip: ObjectID, ref: String,
                            pack: [UInt8]) -> [UInt8] {
        var out = Array("# v2 git bundle\n".utf8)
        out += Array("-\(prerequisite.hex) \(comment)\n".utf8)
        out += Array("\(tip.hex) \(ref)\n\n".utf8)
        return out + pack
    }
}
