import Aggregator
import Conformance
import Foundation
import Logging
import NIOConcurrencyHelpers
import Storage

/// The console's conformance checks: the kit inputs kept per vendor, runs started in the background (a check against
/// a hung vendor can take minutes), their reports kept in storage and audited.
public final class ConformanceRuns: Sendable {
    /// What the operator gives per vendor (the kit's inputs).
    public struct Inputs: Codable, Sendable, Equatable {
        public var rpps: String
        public var rpps2: String
        public var rpps3: String
        public var rpps4: String
        public var cpts: Bool
        public var slotTypes: [String]
        public var cptsSlotTypes: [String]
        public var consultationTypes: [String]

        public init(rpps: String, rpps2: String, rpps3: String, rpps4: String, cpts: Bool = false,
                    slotTypes: [String] = ["PUBLIC", "PRO", "SNP"], cptsSlotTypes: [String] = ["CPTS"],
                    consultationTypes: [String] = ["AMB", "VR", "HH"]) {
            self.rpps = rpps
            self.rpps2 = rpps2
            self.rpps3 = rpps3
            self.rpps4 = rpps4
            self.cpts = cpts
            self.slotTypes = slotTypes
            self.cptsSlotTypes = cptsSlotTypes
            self.consultationTypes = consultationTypes
        }

        enum CodingKeys: String, CodingKey { case rpps, rpps2, rpps3, rpps4, cpts, slotTypes, cptsSlotTypes, consultationTypes }

        /// The four RPPS are required; the rest has the kit's defaults.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(rpps: try c.decode(String.self, forKey: .rpps), rpps2: try c.decode(String.self, forKey: .rpps2),
                      rpps3: try c.decode(String.self, forKey: .rpps3), rpps4: try c.decode(String.self, forKey: .rpps4),
                      cpts: try c.decodeIfPresent(Bool.self, forKey: .cpts) ?? false,
                      slotTypes: try c.decodeIfPresent([String].self, forKey: .slotTypes) ?? ["PUBLIC", "PRO", "SNP"],
                      cptsSlotTypes: try c.decodeIfPresent([String].self, forKey: .cptsSlotTypes) ?? ["CPTS"],
                      consultationTypes: try c.decodeIfPresent([String].self, forKey: .consultationTypes) ?? ["AMB", "VR", "HH"])
        }

        /// French problems, one per invalid field.
        public func problems() -> [String] {
            var problems: [String] = []
            for (label, value) in [("RPPS 1", rpps), ("RPPS 2", rpps2), ("RPPS 3", rpps3), ("RPPS 4", rpps4)]
                where !(value.count == 12 && value.hasPrefix("8") && value.allSatisfy { $0.isASCII && $0.isNumber }) {
                problems.append("\(label) « \(value) » : un IDNPS RPPS (8 suivi de 11 chiffres) est attendu")
            }
            let kinds: Set<String> = ["PUBLIC", "PRO", "SNP", "PRIVATE", "CPTS"]
            for value in slotTypes + cptsSlotTypes where !kinds.contains(value) {
                problems.append("type de créneau inconnu « \(value) » (PUBLIC, PRO, SNP, PRIVATE, CPTS)")
            }
            for value in consultationTypes where !["AMB", "VR", "HH"].contains(value) {
                problems.append("type de consultation inconnu « \(value) » (AMB, VR, HH)")
            }
            return problems
        }
    }

    /// One run as listed.
    public struct Run: Codable, Sendable, Equatable {
        public enum State: String, Codable, Sendable { case running = "en_cours", finished = "termine", interrupted = "interrompu" }
        public var id: String
        public var editorID: String
        public var state: State
        public var actor: String
        public var startedAt: Date
        public var finishedAt: Date?
        public var passed: Bool?
        public var summary: String?
    }

    public struct InvalidInputs: Error { public let problems: [String] }

    let database: any Database
    let editors: EditorStore
    let configuration: PlatformConfiguration
    let logger: Logger
    let tasks = NIOLockedValueBox<[String: Task<Void, Never>]>([:])

    public init(database: any Database, configuration: PlatformConfiguration, logger: Logger) {
        self.database = database
        self.editors = EditorStore(database: database)
        self.configuration = configuration
        self.logger = logger
    }

    public func inputs(_ editorID: String) async throws -> Inputs? {
        guard let row = try await database.query("SELECT inputs FROM conformance_inputs WHERE editor_id = ?", [.text(editorID)]).first else {
            return nil
        }
        return try? JSONDecoder().decode(Inputs.self, from: Data(try row.string("inputs").utf8))
    }

    public func setInputs(_ inputs: Inputs, for editorID: String, actor: String) async throws {
        let problems = inputs.problems()
        guard problems.isEmpty else { throw InvalidInputs(problems: problems) }
        _ = try await editors.get(editorID)
        let text = String(decoding: try JSONEncoder().encode(inputs), as: UTF8.self)
        try await database.transaction { tx in
            try await tx.query("""
                INSERT INTO conformance_inputs (editor_id, inputs, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (editor_id) DO UPDATE SET inputs = excluded.inputs, updated_at = excluded.updated_at
                """, [.text(editorID), .text(text), .date(Date())])
            try await AuditLog(tx).record(AuditEntry(actor: actor, action: "editor.conformance_inputs", target: editorID, detail: text))
        }
    }

    /// The check's settings for a vendor: the platform's identity for it, its CA, the configured test certificates.
    func settings(for editor: Editor, inputs: Inputs?) -> ConformanceCheck.Configuration {
        let platform = PlatformApp.platformIdentity(configuration)
        var settings = ConformanceCheck.Configuration(
            baseURL: editor.normalisedBaseURL,
            certificate: .init(certificatePath: editor.clientCertificatePath ?? platform.certificatePath,
                               keyPath: editor.clientKeyPath ?? platform.keyPath),
            caPath: editor.serverCAPath ?? platform.caPath)
        settings.wrongCommonName = configuration.conformanceWrongCN.map { .init(certificatePath: $0.0, keyPath: $0.1) }
        settings.wrongOrganizationalUnit = configuration.conformanceWrongOU.map { .init(certificatePath: $0.0, keyPath: $0.1) }
        settings.revoked = configuration.conformanceRevoked.map { .init(certificatePath: $0.0, keyPath: $0.1) }
        settings.origin = configuration.bookingOrigin
        settings.pscAuthorizationPrefix = configuration.conformancePSCPrefix
        settings.timeout = .seconds(10)
        var groups: Set<ConformanceCheck.Group> = [.securite]
        if let inputs {
            settings.practitioners = .init(rpps: inputs.rpps, rpps2: inputs.rpps2, rpps3: inputs.rpps3, rpps4: inputs.rpps4)
            settings.cpts = inputs.cpts && editor.flows.contains(.r04)
            settings.slotTypes = inputs.slotTypes
            settings.cptsSlotTypes = inputs.cptsSlotTypes
            settings.consultationTypes = inputs.consultationTypes
        }
        if editor.flows.contains(.r01) || editor.flows.contains(.r04) { groups.formUnion([.agregation, .sso]) }
        if editor.flows.contains(.r02) { groups.insert(.comptes) }
        settings.groups = groups
        return settings
    }

    /// Starts a run in the background; returns its id. One run at a time per vendor.
    public func start(editorID: String, actor: String) async throws -> String {
        let editor = try await editors.get(editorID)
        let inputs = try await inputs(editorID)
        let id = RandomID.uuid()
        let started = Date()
        // One run at a time per vendor (a unique index on the running ones): a run left running by a stopped node
        // for more than half an hour is marked interrupted first.
        let existing: String? = try await database.transaction { tx in
            try await tx.query("UPDATE conformance_runs SET state = 'interrompu' WHERE editor_id = ? AND state = 'en_cours' AND started_at < ?",
                               [.text(editorID), .date(started.addingTimeInterval(-1_800))])
            let inserted = try await tx.query(
                "INSERT INTO conformance_runs (id, editor_id, state, actor, started_at) VALUES (?, ?, 'en_cours', ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                [.text(id), .text(editorID), .text(actor), .date(started)])
            guard inserted.isEmpty else {
                try await AuditLog(tx).record(AuditEntry(actor: actor, action: "editor.conformance_start", target: editorID, detail: id))
                return nil
            }
            return try await tx.query("SELECT id FROM conformance_runs WHERE editor_id = ? AND state = 'en_cours'", [.text(editorID)])
                .first.map { try $0.string("id") }
        }
        if let existing { return existing }
        let settings = settings(for: editor, inputs: inputs)
        let database = self.database, logger = self.logger, tasks = self.tasks
        let task = Task {
            let report = await ConformanceCheck(configuration: settings, logger: logger).run(now: started)
            do {
                let json = String(decoding: try report.json(), as: UTF8.self)
                try await database.transaction { tx in
                    try await tx.query("""
                        UPDATE conformance_runs SET state = 'termine', finished_at = ?, passed = ?, summary = ?, report = ? WHERE id = ?
                        """, [.date(Date()), .bool(report.passed), .text(report.summary), .text(json), .text(id)])
                    try await AuditLog(tx).record(AuditEntry(actor: actor, action: "editor.conformance", target: editorID,
                                                             detail: report.summary))
                }
            } catch {
                logger.error("conformance report not stored", metadata: ["run": "\(id)", "error": "\(error)"])
            }
            _ = tasks.withLockedValue { $0.removeValue(forKey: id) }
        }
        tasks.withLockedValue { $0[id] = task }
        return id
    }

    /// Waits for a run started on this node (tests, and the JSON API's `wait`).
    public func wait(_ runID: String) async {
        let task = tasks.withLockedValue { $0[runID] }
        await task?.value
    }

    /// Cancels the runs in progress (shutdown).
    public func cancelAll() {
        for task in tasks.withLockedValue({ Array($0.values) }) { task.cancel() }
    }

    static func decode(_ row: SQLRow) throws -> Run {
        var state = Run.State(rawValue: try row.string("state")) ?? .interrupted
        let started = try row.date("started_at")
        // A run left "en cours" by a node that stopped is reported as interrupted.
        if state == .running && started < Date().addingTimeInterval(-1_800) { state = .interrupted }
        return Run(id: try row.string("id"), editorID: try row.string("editor_id"), state: state, actor: try row.string("actor"),
                   startedAt: started, finishedAt: row.optionalDate("finished_at"), passed: row["passed"].intValue.map { $0 != 0 },
                   summary: row.optionalString("summary"))
    }

    /// The vendor's runs, latest first.
    public func runs(_ editorID: String, limit: Int = 20) async throws -> [Run] {
        try await database.query("""
            SELECT id, editor_id, state, actor, started_at, finished_at, passed, summary FROM conformance_runs
            WHERE editor_id = ? ORDER BY started_at DESC LIMIT \(limit)
            """, [.text(editorID)]).map(Self.decode)
    }

    /// One run and its report when finished.
    public func run(_ runID: String) async throws -> (Run, ConformanceReport?)? {
        guard let row = try await database.query("SELECT * FROM conformance_runs WHERE id = ?", [.text(runID)]).first else { return nil }
        let report = row.optionalString("report").flatMap { try? ConformanceReport.decode(Data($0.utf8)) }
        return (try Self.decode(row), report)
    }
}
