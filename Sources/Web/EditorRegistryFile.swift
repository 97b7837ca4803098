import Aggregator
import Foundation
import Logging

/// Declarative onboarding: a JSON array of vendors (the admin API's fields) applied to the registry at start.
enum EditorRegistryFile {
    /// Applies the file: adds unknown vendors, updates known ones. A bad file or entry is logged and skipped, never
    /// fatal (the registry in storage stays as it was).
    static func apply(path: String, store: EditorStore, logger: Logger) async {
        let bodies: [AdminEditorRoutes.EditorBody]
        do {
            bodies = try JSONDecoder().decode([AdminEditorRoutes.EditorBody].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            logger.error("editors.registry_file unreadable, registry unchanged", metadata: ["path": "\(path)", "error": "\(error)"])
            return
        }
        for (index, body) in bodies.enumerated() {
            do {
                var editor = try AdminEditorRoutes.editor(from: body, id: nil)
                if let existing = try? await store.get(editor.id) {
                    editor.createdAt = existing.createdAt
                    // A suspension or an onboarding step decided in the console survives restarts unless the file
                    // says otherwise.
                    if body.onboardingState == nil { editor.onboardingState = existing.onboardingState }
                    if body.enabled == nil { editor.enabled = existing.enabled }
                    try await store.update(editor, actor: "config")
                } else {
                    try await store.add(editor, actor: "config")
                }
            } catch {
                logger.error("editors.registry_file entry refused", metadata: ["path": "\(path)", "index": "\(index)", "error": "\(error)"])
            }
        }
    }
}
