import DriftCLI

@main
enum Entry {
    static func main() {
        Drift.runMain()
    }
}
