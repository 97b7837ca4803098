import Foundation
import Identity
import Storage
import Testing

/// The identity tables on both engines: the same SQL must behave the same on SQLite and PostgreSQL.
@Suite("Accounts, lock-out, sessions, resets and OIDC logins in storage")
struct AccountStorageTests {
    @Test("accounts: validation, conflicts, roles, disabling", arguments: TestDatabases.engines)
    func accounts(_ dialect: SQLDialect) async throws {
        try await TestDatabases.withDatabase(dialect) { database, _ in
            let store = AccountStore(database: database)
            let account = try await store.create(email: " Regul@Test.SAS ", displayName: "Dr Test", idnps: "810001045367",
                                                 roles: [.regulator], territories: ["69", "2a"], passwordHash: nil, actor: "t")
            #expect(account.email == "regul@test.sas")
            #expect(account.territories == ["2A", "69"])
            await #expect(throws: AccountError.self) {
                try await store.create(email: "regul@test.sas", displayName: "x", roles: [.ioa], passwordHash: nil, actor: "t")
            }
            await #expect(throws: AccountError.self) {
                try await store.create(email: "autre@test.sas", displayName: "x", idnps: "810001045367", roles: [.ioa],
                                       passwordHash: nil, actor: "t")
            }
            for bad in [("pas-une-adresse", "69", "810001045367"), ("a@b.fr", "99", ""), ("c@d.fr", "69", "8123")] {
                await #expect(throws: AccountError.self) {
                    try await store.create(email: bad.0, displayName: "x", idnps: bad.2, roles: [.ioa],
                                           territories: [bad.1], passwordHash: nil, actor: "t")
                }
            }
            try await store.setRoles(account.id, roles: [.regulator, .ioa], actor: "admin")
            #expect(try await store.find(idnps: "810001045367")?.roles == [.regulator, .ioa])
            try await store.disable(account.id, reason: "test", actor: "admin")
            #expect(try await store.find(id: account.id)?.status == .disabled)
            try await store.enable(account.id, actor: "admin")
            #expect(try await store.find(email: "REGUL@test.sas")?.status == .active)
            let trail = try await AuditLog(database).recent(limit: 20).map(\.action)
            #expect(trail.contains("account.roles") && trail.contains("account.disable") && trail.contains("account.enable"))
        }
    }

    @Test("identity corrections: e-mail, name and IDNPS validated and unique, pending reset links voided, audited",
          arguments: TestDatabases.engines)
    func identity(_ dialect: SQLDialect) async throws {
        try await TestDatabases.withDatabase(dialect) { database, _ in
            let mailer = CapturingMailer()
            let authenticator = Authenticator(database: database, hasher: PasswordHasher(memoryKiB: 64, iterations: 1),
                                              mailer: mailer, logger: TestDatabases.logger)
            let store = authenticator.accounts
            let claire = try await store.create(email: "claire@test.sas", displayName: "Dr Claire Martn", idnps: "810001045367",
                                                roles: [.regulator], territories: ["69"], passwordHash: nil, actor: "t")
            _ = try await store.create(email: "paul@test.sas", displayName: "Paul", idnps: "810000005883", roles: [.ioa],
                                       passwordHash: nil, actor: "t")
            let stored = try #require(try await store.find(id: claire.id)) // instants as stored (to the millisecond)
            try await authenticator.requestReset(email: "claire@test.sas", linkBase: "http://x/r", address: nil, waitForMail: true)
            let link = try #require(mailer.sent.withLockedValue { $0.last?.body.components(separatedBy: "jeton=").last })

            // Taken e-mail or IDNPS, malformed values: refused, nothing written.
            for (email, idnps, kind) in [("paul@test.sas", "810001045367", AccountError.Kind.conflict),
                                         ("claire@test.sas", "810000005883", .conflict),
                                         ("pas-une-adresse", "810001045367", .invalid),
                                         ("claire@test.sas", "8123", .invalid)] {
                await #expect(throws: AccountError(kind, ""), "\(email) \(idnps)") {
                    do { try await store.updateIdentity(claire.id, email: email, displayName: "x", idnps: idnps, actor: "admin") }
                    catch let error as AccountError { throw AccountError(error.kind, "") }
                }
            }
            await #expect(throws: AccountError.self) {
                try await store.updateIdentity(claire.id, email: "claire@test.sas", displayName: "  ", idnps: nil, actor: "admin")
            }
            #expect(try await store.find(id: claire.id) == stored)

            // The same values again: nothing written, no audit entry.
            try await store.updateIdentity(claire.id, email: "CLAIRE@test.sas", displayName: "Dr Claire Martn", idnps: "810001045367",
                                           actor: "admin")
            #expect(try await store.find(id: claire.id)?.version == claire.version)

            let before = try await store.updateIdentity(claire.id, email: " Claire.Martin@Test.SAS ", displayName: "Dr Claire Martin",
                                                        idnps: nil, actor: "admin")
            #expect(before == stored)
            let after = try #require(try await store.find(id: claire.id))
            #expect(after.email == "claire.martin@test.sas" && after.displayName == "Dr Claire Martin" && after.idnps == nil)
            #expect(after.version == claire.version + 1 && after.roles == claire.roles && after.territories == claire.territories)
            #expect(try await store.find(email: "claire@test.sas") == nil)
            // The link mailed to the old address no longer works; the IDNPS it held is free again.
            await #expect(throws: AccountError.self) {
                try await authenticator.completeReset(token: link, newPassword: "Nouveau-Cheval-10", address: nil)
            }
            try await store.updateIdentity(claire.id, email: after.email, displayName: after.displayName, idnps: "810001045367",
                                           actor: "admin")
            #expect(try await store.find(idnps: "810001045367")?.id == claire.id)
            let trail = try await AuditLog(database).recent(limit: 20).filter { $0.action == "account.identity" }
            #expect(trail.count == 2)
            #expect(trail.contains { $0.detail == "e-mail claire@test.sas → claire.martin@test.sas ; nom « Dr Claire Martn » → « Dr Claire Martin » ; IDNPS 810001045367 → aucun" })
            await #expect(throws: AccountError.self) {
                try await store.updateIdentity("inconnu", email: "x@test.sas", displayName: "x", idnps: nil, actor: "admin")
            }
        }
    }

    @Test("lock-out, sessions, reset tokens and OIDC logins", arguments: TestDatabases.engines)
    func flows(_ dialect: SQLDialect) async throws {
        try await TestDatabases.withDatabase(dialect) { database, _ in
            let clock = TestClock()
            let mailer = CapturingMailer()
            var policy = LoginPolicy()
            policy.failureDelay = .milliseconds(1)
            let hasher = PasswordHasher(memoryKiB: 64, iterations: 1)
            let authenticator = Authenticator(database: database, hasher: hasher, policy: policy, mailer: mailer,
                                              clock: clock.function, logger: TestDatabases.logger)
            let account = try await authenticator.accounts.create(
                email: "a@test.sas", displayName: "A", roles: [.regulator], passwordHash: hasher.hash("Correct-Cheval-9"),
                actor: "t", now: clock.date)
            for _ in 0..<4 {
                guard case .refused = try await authenticator.login(email: "a@test.sas", password: "x", from: nil) else {
                    Issue.record("expected a refusal"); return
                }
            }
            guard case .locked = try await authenticator.login(email: "a@test.sas", password: "x", from: nil) else {
                Issue.record("the fifth failure locks"); return
            }
            guard case .locked = try await authenticator.login(email: "a@test.sas", password: "Correct-Cheval-9", from: nil) else {
                Issue.record("locked even with the right password"); return
            }
            clock.advance(61)
            guard case .success = try await authenticator.login(email: "a@test.sas", password: "Correct-Cheval-9", from: "10.0.0.1") else {
                Issue.record("works after the lock-out"); return
            }

            let sessions = SessionStore(database: database, clock: clock.function)
            let (secret, session) = try await sessions.open(for: account, method: "password", remoteAddress: "10.0.0.1")
            #expect(try await sessions.resume(secret)?.id == session.id)
            #expect(try await sessions.resume("inconnu") == nil)
            clock.advance(31 * 60)
            #expect(try await sessions.resume(secret) == nil)
            #expect(try await sessions.purge() == 0, "the expired session was deleted when it was refused")

            try await authenticator.requestReset(email: "a@test.sas", linkBase: "http://x/r", address: nil, waitForMail: true)
            let token = try #require(mailer.sent.withLockedValue { $0.last?.body.components(separatedBy: "jeton=").last })
            try await authenticator.completeReset(token: token, newPassword: "Nouveau-Cheval-10", address: nil)
            await #expect(throws: AccountError.self) {
                try await authenticator.completeReset(token: token, newPassword: "Encore-Cheval-11", address: nil)
            }

            let store = DatabaseOIDCLoginStore(database: database)
            try await store.save(PendingOIDCLogin(state: "s1", nonce: "n", codeVerifier: "v", returnTo: "/x", createdAt: clock.date),
                                 olderThan: clock.date.addingTimeInterval(-600))
            #expect(try await store.take(state: "s1")?.returnTo == "/x")
            #expect(try await store.take(state: "s1") == nil, "single use")
        }
    }
}
