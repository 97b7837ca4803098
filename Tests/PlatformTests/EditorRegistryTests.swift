import Aggregator
import Foundation
import Storage
import Testing
import Web

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

    @Test("onboarding steps and suspension with their history; conformance inputs and runs stored", arguments: TestDatabases.engines)
    func onboarding(engine: SQLDialect) async throws {
        try await TestDatabases.withDatabase(engine) { db, _ in
            let store = EditorStore(database: db)
            var editor = Self.sample()
            editor.onboardingState = .contact
            try await store.add(editor, actor: "admin@test")
            try await store.changeState("agenda-a", to: .cadrage, note: "Réunion de cadrage", actor: "admin@test")
            try await store.setEnabled("agenda-a", false, actor: "admin@test", note: "Incident")
            var current = try await store.get("agenda-a")
            #expect(current.onboardingState == .suspendu && !current.enabled)
            // A suspended vendor stays suspended when its registration is edited.
            current.name = "Agenda A (renommé)"
            current.enabled = true
            await #expect(throws: EditorStore.InvalidEditor.self) { try await store.update(current, actor: "admin@test") }
            try await store.setEnabled("agenda-a", true, actor: "admin@test")
            current = try await store.get("agenda-a")
            #expect(current.onboardingState == .cadrage && current.enabled)
            // Enabling a vendor already in service records nothing.
            try await store.setEnabled("agenda-a", true, actor: "admin@test")
            let history = try await store.history("agenda-a")
            #expect(history.map(\.state) == [.cadrage, .suspendu, .cadrage, .contact])
            #expect(history[1].note == "Incident")
            await #expect(throws: EditorStore.RegistryError.self) { try await store.changeState("inconnu", to: .recette, note: nil, actor: "x") }

            let configuration = try PlatformConfiguration.load(file: nil, environment: [:], flags: [])
            let runs = ConformanceRuns(database: db, configuration: configuration, logger: TestDatabases.logger)
            let inputs = ConformanceRuns.Inputs(rpps: "810101215225", rpps2: "810101215225", rpps3: "810101215225", rpps4: "810101215225")
            try await runs.setInputs(inputs, for: "agenda-a", actor: "admin@test")
            var changed = inputs
            changed.cpts = true
            try await runs.setInputs(changed, for: "agenda-a", actor: "admin@test")
            #expect(try await runs.inputs("agenda-a") == changed)
            await #expect(throws: ConformanceRuns.InvalidInputs.self) {
                try await runs.setInputs(.init(rpps: "12", rpps2: "", rpps3: "", rpps4: ""), for: "agenda-a", actor: "admin@test")
            }
            // Removing the vendor removes its history, inputs and runs.
            try await store.remove("agenda-a", actor: "admin@test")
            #expect(try await store.history("agenda-a").isEmpty)
            #expect(try await runs.inputs("agenda-a") == nil)
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
