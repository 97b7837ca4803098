import FHIR
import Foundation
import Hummingbird
import NIOCore
import NIOPosix

/// The vendor's FHIR endpoints (under `/fhir`) and its fault-injection admin endpoint.
struct SandboxFHIRRoutes {
    let editor: SandboxEditor

    func register(on router: Router<SandboxRequestContext>) {
        let fhir = router.group("fhir")
        fhir.get("metadata") { _, _ in
            Self.json(200, ["resourceType": "CapabilityStatement", "status": "active", "kind": "instance",
                            "fhirVersion": "4.0.1", "format": ["application/fhir+json"],
                            "software": ["name": "Éditeur bac à sable \(editor.configuration.name)"]])
        }
        fhir.get("Slot") { request, context in
            editor.count("Slot")
            return try await faultyAnswer(request, context) { query, selfLink, faults in
                try editor.search.slots(query: query, selfLink: selfLink, faults: faults)
            }
        }
        fhir.get("Schedule") { request, context in
            editor.count("Schedule")
            return try await faultyAnswer(request, context) { query, selfLink, faults in
                try editor.search.sosSchedules(query: query, selfLink: selfLink, faults: faults)
            }
        }
        fhir.post("Practitioner") { request, _ in
            editor.count("Practitioner.POST")
            guard let practitioner = try await Self.readPractitioner(request) else {
                return Self.outcome(.issue(.structure, french: "Corps illisible : une ressource Practitioner en JSON est attendue."), status: 400)
            }
            do {
                let account = try await editor.accounts.create(practitioner, lenient: editor.faults.lenientAccounts)
                return Self.created(account, base: editor.fhirBaseURL, status: 201)
            } catch let error as RegulatorAccounts.Refusal {
                return Self.outcome(.issue(error.code, french: error.text), status: error.status)
            }
        }
        fhir.put("Practitioner") { request, _ in
            editor.count("Practitioner.PUT")
            guard let token = request.uri.queryParameters.get("identifier"), let bar = token.lastIndex(of: "|") else {
                return Self.outcome(.issue(.required, french: "Mise à jour conditionnelle : le paramètre identifier=système|valeur est obligatoire."), status: 400)
            }
            guard let practitioner = try await Self.readPractitioner(request) else {
                return Self.outcome(.issue(.structure, french: "Corps illisible : une ressource Practitioner en JSON est attendue."), status: 400)
            }
            do {
                let (account, created) = try await editor.accounts.update(
                    querySystem: String(token[..<bar]), queryValue: String(token[token.index(after: bar)...]), with: practitioner,
                    lenient: editor.faults.lenientAccounts)
                return Self.created(account, base: editor.fhirBaseURL, status: created ? 201 : 200)
            } catch let error as RegulatorAccounts.Refusal {
                return Self.outcome(.issue(error.code, french: error.text), status: error.status)
            }
        }
        // What this vendor gives the national conformance kit: its test practitioners and declared options.
        router.get("_sandbox/conformance") { _, _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(editor.configuration.roster.conformance)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("_sandbox/faults") { _, _ in
            let data = try JSONEncoder().encode(editor.faults)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.put("_sandbox/faults") { request, _ in
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard let faults = try? JSONDecoder().decode(SandboxFaults.self, from: Data(buffer: body)) else {
                return Self.outcome(.issue(.invalid, french: "Corps JSON de pannes invalide."), status: 400)
            }
            editor.setFaults(faults)
            return Response(status: .noContent)
        }
    }

    /// Applies the faults in force around a search answer.
    func faultyAnswer(_ request: Request, _ context: SandboxRequestContext,
                      _ answer: (SandboxSearch.Query, String, SandboxFaults) throws -> FHIRBundle) async throws -> Response {
        let faults = editor.faults
        let started = ContinuousClock.now
        let delay = faults.latencyMs + (faults.latencyJitterMs > 0 ? Int.random(in: 0...faults.latencyJitterMs) : 0)
        // The configured latency is the vendor's total response time: the answer is prepared first, then the
        // vendor waits for what is left, so that a "20 ms" vendor answers in 20 ms, not 20 ms plus its encoding.
        func waitForLatency() async throws {
            let remaining = Duration.milliseconds(delay) - (ContinuousClock.now - started)
            if remaining > .zero { try await Task.sleep(for: remaining) }
        }
        if faults.hang {
            // Hold the request until the client gives up (or the server stops).
            try await Task.sleep(for: .seconds(3600))
        }
        if faults.resetConnection {
            // SO_LINGER 0 then close: the peer sees a TCP reset, not an orderly close.
            if let socket = context.channel as? any SocketOptionProvider {
                try? await socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
            }
            context.channel.close(promise: nil)
            throw HTTPError(.internalServerError)
        }
        if let status = faults.errorStatus, Double.random(in: 0..<1) < faults.errorRate {
            try await waitForLatency()
            var response = Self.outcome(.issue(status == 503 ? .transient : .exception,
                                               french: "Erreur simulée par l'éditeur bac à sable (\(status))."), status: status)
            if let retry = faults.retryAfterSeconds { response.headers[.retryAfter] = String(retry) }
            return response
        }
        let query = request.uri.queryParameters.map { (name: String($0.key), value: String($0.value)) }
        let selfLink = editor.origin + request.uri.description
        var data: Data
        if let memo = editor.memoisedAnswer(for: request.uri.description, faults: faults) {
            data = memo
        } else {
            let bundle: FHIRBundle
            do { bundle = try answer(query, selfLink, faults) } catch let error as SandboxSearch.BadRequest {
                try await waitForLatency()
                return Self.outcome(.issue(.invalid, french: error.text), status: 400)
            }
            data = try FHIRJSON.encode(Self.distort(bundle, faults))
            editor.memoise(data, for: request.uri.description, faults: faults)
        }
        if faults.utcInstants {
            data = Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: ".000+00:00\"", with: "Z\"").utf8)
        }
        if faults.invalidJSON { data = data.prefix(max(1, data.count / 2)) + Data("{,]".utf8) }
        if let megabytes = faults.oversizedMegabytes, data.count > 2 {
            // Pad inside the JSON object so that the body stays valid JSON but huge.
            let padding = ",\"_padding\":\"" + String(repeating: "x", count: megabytes * 1_048_576) + "\"}"
            data = data.dropLast() + Data(padding.utf8)
        }
        try await waitForLatency()
        return Response(status: .ok, headers: [.contentType: "application/fhir+json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func distort(_ bundle: FHIRBundle, _ faults: SandboxFaults) -> FHIRBundle {
        var bundle = bundle
        if faults.wrongTotal { bundle.total = (bundle.total ?? 0) + 7 }
        if faults.omitSearchMode {
            bundle.entry = bundle.entry?.map { entry in
                var entry = entry
                if entry.search?.mode == "include" { entry.search = nil }
                return entry
            }
        }
        return bundle
    }

    static func readPractitioner(_ request: Request) async throws -> FHIR.Practitioner? {
        let body = try await request.body.collect(upTo: 1 << 20)
        guard case .practitioner(let practitioner)? = try? FHIRJSON.decodeResource(Data(buffer: body)) else { return nil }
        return practitioner
    }

    static func created(_ account: RegulatorAccounts.Account, base: String, status: Int) -> Response {
        var response = json(status, ["resourceType": "Practitioner", "id": account.id, "active": account.active,
                                     "meta": ["versionId": String(account.version)]])
        response.headers[.location] = "\(base)/Practitioner/\(account.id)/_history/\(account.version)"
        return response
    }

    static func outcome(_ outcome: OperationOutcome, status: Int) -> Response {
        let data = (try? FHIRJSON.encode(Resource.operationOutcome(outcome))) ?? Data()
        return Response(status: .init(code: status), headers: [.contentType: "application/fhir+json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json(_ status: Int, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: .init(code: status), headers: [.contentType: "application/fhir+json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
