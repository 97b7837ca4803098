import Foundation

/// One scratch directory per test process for the files, databases and PKIs the tests write, removed when the
/// process exits (and, at the next start, those of earlier processes that did not exit cleanly). Tests that clean up
/// after themselves still do; this catches the rest, so that runs do not leave hundreds of entries in /tmp.
enum TestScratch {
    static let prefix = "sas-tests-"
    static let directory: URL = {
        let manager = FileManager.default
        let temporary = manager.temporaryDirectory
        for name in (try? manager.contentsOfDirectory(atPath: temporary.path)) ?? [] where name.hasPrefix(prefix) {
            if let pid = Int32(name.dropFirst(prefix.count)), kill(pid, 0) != 0, errno == ESRCH {
                try? manager.removeItem(at: temporary.appendingPathComponent(name))
            }
        }
        let url = temporary.appendingPathComponent(prefix + String(ProcessInfo.processInfo.processIdentifier))
        try? manager.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: TestScratch.directory) }
        return url
    }()

    /// A path inside the scratch directory (nothing is created).
    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
}
