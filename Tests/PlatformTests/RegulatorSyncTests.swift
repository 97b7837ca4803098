import Aggregator
import EditorSync
import Foundation
import Identity
import Logging
import SASDomain
import Sandbox
import Storage
import Testing
import Web

@Suite("INT_R02: regulator accounts kept in sync in vendors' software")
struct RegulatorSyncTests {
    static func transport(_ fleet: SandboxFleet) -> HTTPEditorTransport {
        HTTPEditorTransport(identity: fleet.platformIdentity, logger: TestDatabases.logger)
    }

    /// One sandbox vendor of `personality`, its registry entry (INT_R02) and an INT_R02 client; stopped afterwards.
    static func withVendor(_ personality: String,
                           _ body: (Editor, RegulatorAccountClient) async throws -> Void) async throws {
        let fleet = try await SandboxFleet.start([("vendeur", personality, SandboxRoster())])
        let transport = Self.transport(fleet)
        do {
            try await body(fleet.registry(flows: [.r02])[0], RegulatorAccountClient(transport: transport))
        } catch {
            await transport.shutdown()
            try await fleet.stop()
            throw error
        }
        await transport.shutdown()
        try await fleet.stop()
    }

    @Test("The conformance kit's regulator-account sequence (5.01–5.16) passes against the sandbox vendor, and fails against none")
    func kitSequence() async throws {
        try await Self.withVendor("good") { editor, client in
            let steps = await RegulatorAccountKit(client: client, editor: editor).run()
            #expect(steps.map(\.id) == ["5.01", "5.02", "5.03", "5.04", "5.05", "5.06", "5.07", "5.08", "5.09", "5.10",
                                        "5.11", "5.12", "5.13", "5.14", "5.15", "5.16"])
            for step in steps {
                #expect(step.passed, "\(step.id) \(step.title): \(step.failure ?? "")")
            }
            // Fresh identifiers at every run: the same server passes a second time.
            let again = await RegulatorAccountKit(client: client, editor: editor).run()
            let failedAgain = again.filter { !$0.passed }.map { "\($0.id): \($0.failure ?? "")" }
            #expect(failedAgain.isEmpty, "\(failedAgain)")
            // The sequence really reads statuses: against a closed port every step fails, with the exchange shown.
            var closed = editor
            closed.baseURL = "https://127.0.0.1:\(try freeLoopbackPort())/fhir"
            let down = await RegulatorAccountKit(client: client, editor: closed).run()
            #expect(down.allSatisfy { !$0.passed })
            #expect(down[0].failure?.contains("POST Practitioner") == true)
        }
    }

    @Test("A lax vendor (duplicates and missing fields accepted) fails exactly 5.03, 5.04, 5.05 (optional), 5.13 and 5.14")
    func kitCatchesLaxVendor() async throws {
        try await Self.withVendor("comptes-laxistes") { editor, client in
            let steps = await RegulatorAccountKit(client: client, editor: editor).run()
            #expect(steps.filter { !$0.passed }.map(\.id) == ["5.03", "5.04", "5.05", "5.13", "5.14"])
            #expect(steps.first { $0.id == "5.05" }?.optional == true)
            #expect(steps.first { $0.id == "5.03" }?.failure?.contains("attendu : 4xx ou 5xx") == true)
        }
    }

    final class Clock: Sendable {
        let offset = NIOLockedBox(0.0)
        var now: Date { Date().addingTimeInterval(offset.value) }
        func advance(_ seconds: TimeInterval) { offset.value += seconds }
    }

    @Test("Created at first sync, nothing resent when unchanged, technical id replaced by the national id, deactivated, retried with backoff while the vendor is down",
          arguments: TestDatabases.engines)
    func lifecycle(dialect: SQLDialect) async throws {
        let fleet = try await SandboxFleet.start([("agendaplus", "good", SandboxRoster())])
        let transport = Self.transport(fleet)
        defer { Task { await transport.shutdown(); try? await fleet.stop() } }
        try await TestDatabases.withDatabase(dialect) { database, _ in
            let sandbox = fleet["agendaplus"]
            let editors = EditorStore(database: database)
            var editor = fleet.registry(flows: [.r01, .r02])[0]
            try await editors.add(editor, actor: "test")
            let accounts = AccountStore(database: database)
            let account = try await accounts.create(email: "Camille.Martin@samu69.fr", displayName: "Dr Camille Martin",
                                                    roles: [.regulator], territories: ["69"], passwordHash: nil, actor: "test")
            let clock = Clock()
            let sync = RegulatorSync(database: database, client: RegulatorAccountClient(transport: transport, timeout: .seconds(3)),
                                     logger: TestDatabases.logger, clock: { clock.now })

            // First login: created with the SAS technical id (no national id yet).
            #expect(try await sync.needsSync(account))
            #expect(try await sync.reconcile(accountID: account.id, reason: "connexion") == ["agendaplus": .created])
            var remote = await sandbox.accounts.all()
            #expect(remote.count == 1)
            #expect(remote.first?.identifierSystem == IdentifierSystem.sasTechnical)
            #expect(remote.first?.identifierValue == account.id)
            #expect(remote.first?.familyName == "Martin")
            #expect(remote.first?.givenName == "Camille")
            #expect(remote.first?.email == "camille.martin@samu69.fr")
            #expect(remote.first?.active == true)

            // Unchanged: nothing to send, no request.
            let requests = sandbox.requestCount("Practitioner.POST") + sandbox.requestCount("Practitioner.PUT")
            #expect(try await sync.needsSync(try #require(try await accounts.find(id: account.id))) == false)
            #expect(try await sync.reconcile(accountID: account.id, reason: "connexion") == ["agendaplus": RegulatorSyncAction.none])
            #expect(sandbox.requestCount("Practitioner.POST") + sandbox.requestCount("Practitioner.PUT") == requests)

            // The national id becomes known: PUT ?identifier=<old technical id> with the national id in the body.
            let idnps = "8" + RPPS.withCheckDigit("9970000077")
            try await database.query("UPDATE accounts SET idnps = ? WHERE id = ?", [.text(idnps), .text(account.id)])
            #expect(try await sync.reconcile(accountID: account.id, reason: "connexion") == ["agendaplus": .updated])
            remote = await sandbox.accounts.all()
            #expect(remote.count == 1)
            #expect(remote.first?.identifierSystem == IdentifierSystem.idnps)
            #expect(remote.first?.identifierValue == idnps)
            let audit = try await AuditLog(database).recent(limit: 20).map { $0.detail ?? "" }
            #expect(audit.contains { $0.contains("identifiant \(IdentifierSystem.sasTechnical)|\(account.id) → \(IdentifierSystem.idnps)|\(idnps)") })

            // Disabled: found by the periodic pass and withdrawn at once (PUT active=false on the national id).
            try await accounts.disable(account.id, reason: "départ", actor: "test")
            #expect(try await sync.runDue() == 1)
            #expect(await sandbox.accounts.all().first?.active == false)
            #expect(try await sync.runDue() == 0)

            // Re-enabled while the vendor is down: the login never fails; the failure is recorded and retried later.
            try await accounts.enable(account.id, actor: "test")
            let up = editor.baseURL
            editor.baseURL = "https://127.0.0.1:\(try freeLoopbackPort())/fhir"
            try await editors.update(editor, actor: "test")
            #expect(try await sync.reconcile(accountID: account.id, reason: "connexion") == ["agendaplus": .failed])
            var state = try #require(try await sync.states(accountID: account.id).first)
            #expect(state.state == .failed)
            #expect(state.attempts == 1)
            #expect(state.lastError?.contains("injoignable") == true)
            let firstRetry = try #require(state.nextAttemptAt).timeIntervalSince(clock.now)
            #expect(firstRetry > 20 && firstRetry <= 31)
            #expect(try await sync.runDue() == 0)  // not due yet
            clock.advance(31)
            #expect(try await sync.runDue() == 1)
            state = try #require(try await sync.states(accountID: account.id).first)
            #expect(state.attempts == 2)
            let secondRetry = try #require(state.nextAttemptAt).timeIntervalSince(clock.now)
            #expect(secondRetry > 50 && secondRetry <= 61)  // backoff doubled

            // Back up: the next due retry re-activates the account at the vendor.
            editor.baseURL = up
            try await editors.update(editor, actor: "test")
            clock.advance(61)
            #expect(try await sync.runDue() == 1)
            state = try #require(try await sync.states(accountID: account.id).first)
            #expect(state.state == .synced)
            #expect(state.remoteActive)
            #expect(await sandbox.accounts.all().first?.active == true)
            #expect(await sandbox.accounts.all().count == 1)

            // A role change that removes regulating rights withdraws the account too.
            try await accounts.setRoles(account.id, roles: [.healthProfessional], actor: "test")
            #expect(try await sync.runDue() == 1)
            #expect(await sandbox.accounts.all().first?.active == false)
        }
    }

    @Test("A login through the web sends INT_R02 in the background; account managers see the state; a disabled account is withdrawn within seconds")
    func throughTheWeb() async throws {
        let fleet = try await SandboxFleet.start([("agendaplus", "good", SandboxRoster())])
        defer { Task { try? await fleet.stop() } }
        try await IdentityEnvironment.with { env in
            let sandbox = fleet["agendaplus"]
            var editor = fleet.registry(flows: [.r01, .r02])[0]
            editor.clientCertificatePath = fleet.pki.certificatePath("platform")
            editor.clientKeyPath = fleet.pki.keyPath("platform")
            editor.serverCAPath = fleet.pki.caChainPath
            try await EditorStore(database: env.platform.app.database).add(editor, actor: "test")

            let login = try await env.login("regul2@test.sas")
            #expect(login.status == 303)
            let account = try #require(try await env.platform.app.identity.accounts.find(email: "regul2@test.sas"))
            let deadline = ContinuousClock.now + .seconds(30)
            while await sandbox.accounts.all().isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(await sandbox.accounts.find(system: IdentifierSystem.sasTechnical, value: account.id)?.active == true)

            // A health professional has no account to keep at vendors.
            let doctor = TestBrowser(caPath: nil)
            _ = try await env.login("medecin@test.sas", browser: doctor)
            try await doctor.shutdown()
            try await Task.sleep(for: .milliseconds(300))
            #expect(await sandbox.accounts.all().count == 1)

            // The console, for account managers only.
            let regulatorView = try await env.browser.request(env.base + "/admin/comptes-editeurs")
            #expect(regulatorView.status == 403)
            let admin = TestBrowser(caPath: nil)
            defer { Task { try? await admin.shutdown() } }
            _ = try await env.login("admin@test.sas", browser: admin)
            let page = try await admin.request(env.base + "/admin/comptes-editeurs")
            #expect(page.status == 200)
            #expect(page.body.contains("regul2@test.sas"))
            #expect(page.body.contains("Synchronisé"))
            let json = try await admin.request(env.base + "/admin/comptes-editeurs", headers: [("Accept", "application/json")])
            let rows = try JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [[String: Any]]
            #expect(rows?.first?["editorID"] as? String == "agendaplus")
            #expect(rows?.first?["state"] as? String == "synced")

            // Disabled by an account manager (here the store, as `sas accounts disable` does): withdrawn by the node's
            // periodic pass (every second in this test).
            try await env.platform.app.identity.accounts.disable(account.id, reason: "test", actor: "test")
            let until = ContinuousClock.now + .seconds(30)
            while await sandbox.accounts.all().first?.active == true && ContinuousClock.now < until {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(await sandbox.accounts.all().first?.active == false)
        }
    }
}

/// A locked mutable value for test clocks.
final class NIOLockedBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
    /// Reads and changes the value under the lock.
    func withValue<R>(_ body: (inout T) -> R) -> R {
        lock.lock(); defer { lock.unlock() }
        return body(&stored)
    }
}
