import Aggregator
import Foundation
import Storage
import Testing

@Suite("Editor registry")
struct EditorRegistryTests {
    static func sample(_ id: String = "agenda-a") -> Editor {
        Editor(id: id, name: "Agenda A", baseURL: "https://127.0.0.1:9001/fhir", flows: [.r01, .r04],
               inboundCommonName: "agenda-a.test", inboundOrganizationalUnit: "EDITEUR A")
    }

    @Test("add, read back, update, disable, remove — each audited", arguments: TestDatabases.engines)
    func lifecycle(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let store = EditorStore(database: db)
            try await store.add(Self.sample(), actor: "admin@test")
            var editor = try await store.get("agenda-a")
            #expect(editor.flows == [.r01, .r04] && editor.enabled && editor.inboundOrganizationalUnit == "EDITEUR A")
            #expect(try await store.enabled(for: .r01).map(\.id) == ["agenda-a"])
            #expect(try await store.enabled(for: .sos).isEmpty)
            editor.flows.insert(.sos)
            editor.timeoutMilliseconds = 1500
            try await store.update(editor, actor: "admin@test")
            #expect(try await store.get("agenda-a").timeoutMilliseconds == 1500)
            try await store.setEnabled("agenda-a", false, actor: "admin@test")
            #expect(try await store.enabled(for: .r01).isEmpty)
            try await EditorLinks(database: db).record(editorID: "agenda-a", idnps: ["810000000001"])
            try await store.remove("agenda-a", actor: "admin@test")
            #expect(try await store.all().isEmpty)
            #expect(try await EditorLinks(database: db).editors(for: ["810000000001"]).isEmpty)
            let actions = try await AuditLog(db).recent().map(\.action)
            #expect(actions == ["editor.remove", "editor.suspend", "editor.update", "editor.add"])
        }
    }

    @Test("invalid registrations are refused with every reason, and nothing is stored", arguments: TestDatabases.engines)
    func invalid(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let store = EditorStore(database: db)
            let bad = Editor(id: "Pas Bon", name: " ", baseURL: "http://vendor.example/fhir", flows: [.r03], timeoutMilliseconds: 9000)
            do {
                try await store.add(bad, actor: "admin@test")
                Issue.record("an invalid editor was accepted")
            } catch let error as EditorStore.InvalidEditor {
                #expect(error.problems.count == 5)
            }
            #expect(try await store.all().isEmpty)
            try await store.add(Self.sample(), actor: "admin@test")
            await #expect(throws: EditorStore.RegistryError.alreadyExists("agenda-a")) {
                try await store.add(Self.sample(), actor: "admin@test")
            }
            await #expect(throws: EditorStore.RegistryError.notFound("nope")) {
                try await store.setEnabled("nope", false, actor: "admin@test")
            }
        }
    }

    @Test("practitioner ↔ editor links are learned, deduplicated and refreshed", arguments: TestDatabases.engines)
    func links(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let store = EditorStore(database: db)
            try await store.add(Self.sample("agenda-a"), actor: "t")
            try await store.add(Self.sample("agenda-b"), actor: "t")
            let links = EditorLinks(database: db)
            try await links.record(editorID: "agenda-a", idnps: ["810000000001", "810000000002"])
            try await links.record(editorID: "agenda-b", idnps: ["810000000002"])
            try await links.record(editorID: "agenda-a", idnps: ["810000000001"])
            let known = try await links.editors(for: ["810000000001", "810000000002", "810000000003"])
            #expect(known["810000000001"] == ["agenda-a"])
            #expect(known["810000000002"] == ["agenda-a", "agenda-b"])
            #expect(known["810000000003"] == nil)
            let count = try await db.query("SELECT COUNT(*) AS c FROM editor_links").first?["c"].intValue
            #expect(count == 3)
        }
    }
}
