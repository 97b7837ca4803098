@testable import Aggregator
import FHIR
import Foundation
import SASDomain
import Testing

extension AggregatorCore {
    /// Health snapshot, metrics, French texts and small helpers.
    @Suite struct HealthAndTexts {
        @Test func healthAndMetricsFollowTheRequests() async throws {
            let transport = SandboxTransport([
                "ok": SandboxEditor(latency: .milliseconds(30)),
                "hung": SandboxEditor(script: { _ in .hang }),
            ])
            let metrics = RecordingMetrics()
            let aggregator = SlotAggregator(editors: [sandboxEditor("ok"), sandboxEditor("hung")], transport: transport,
                                            configuration: configuration { $0.cacheTTL = .zero }, metrics: metrics)
            for _ in 0..<4 { _ = await TimedSearch.run(aggregator, request(somePractitioners(3), deadline: .milliseconds(200))) }
            await eventually { aggregator.health(editorID: "ok").sampleCount == 4 && aggregator.health(editorID: "hung").sampleCount == 4 }

            let ok = aggregator.health(editorID: "ok")
            #expect(ok.sampleCount == 4 && ok.outcomeCounts[.ok] == 4)
            let p50 = try #require(ok.latencyP50)
            #expect(p50 >= .milliseconds(30) && p50 < .milliseconds(200))
            #expect(ok.shareUnderOneSecond == 1 && ok.shareUnderSevenSeconds == 1)
            #expect(ok.lastSuccessAt != nil && ok.lastFailureAt == nil)

            let hung = aggregator.health(editorID: "hung")
            #expect(hung.outcomeCounts[.timeout] == 4)
            #expect(hung.latencyP50 == nil && hung.shareUnderOneSecond == 0)
            #expect(hung.consecutiveFailures == 4 && hung.circuitState == .closed)
            #expect(aggregator.health().map(\.editorID) == ["ok", "hung"])

            #expect(metrics.requests.filter { $0.editorID == "ok" }.allSatisfy { $0.outcome == .ok && $0.sla == .underOneSecond })
            #expect(metrics.requests.filter { $0.editorID == "hung" }.map(\.outcome) == Array(repeating: .timeout, count: 4))
            #expect(metrics.requests.filter { $0.editorID == "hung" }.allSatisfy { $0.sla == nil })
            #expect(metrics.searches == 4)
        }

        @Test func summaryReportsCPUAndFirstBatch() async throws {
            let transport = SandboxTransport(["e": SandboxEditor(latency: .milliseconds(30))])
            let aggregator = SlotAggregator(editors: [sandboxEditor("e")], transport: transport)
            let search = await TimedSearch.run(aggregator, request(somePractitioners(25)))
            let summary = try #require(search.summary)
            #expect(summary.cpuTime > .zero)
            let first = try #require(summary.firstBatchElapsed)
            #expect(first >= .milliseconds(30) && first <= summary.elapsed)
            #expect(summary.elapsedMilliseconds >= 30)
        }

        @Test func frenchStatusTexts() {
            let name = "AgendaPlus"
            #expect(EditorStatus.timeout.frenchDescription(editorName: name) == "AgendaPlus n'a pas répondu à temps")
            #expect(EditorStatus.ok(slotCount: 1).frenchDescription(editorName: name) == "AgendaPlus : 1 créneau disponible")
            #expect(EditorStatus.ok(slotCount: 4).frenchDescription(editorName: name) == "AgendaPlus : 4 créneaux disponibles")
            #expect(EditorStatus.empty.frenchDescription(editorName: name) == "AgendaPlus n'a aucun créneau disponible sur la période")
            #expect(EditorStatus.responseTooLarge(limit: 5 * 1024 * 1024).frenchDescription(editorName: name)
                    == "La réponse de l'éditeur AgendaPlus dépasse la taille maximale autorisée (5 Mo)")
            #expect(EditorStatus.invalidBundle(badEntries: 2, reason: "Agenda (Schedule) introuvable").frenchDescription(editorName: name)
                    == "La réponse de l'éditeur AgendaPlus contient 2 entrées invalides : Agenda (Schedule) introuvable")
            #expect(EditorStatus.circuitOpen.frenchDescription(editorName: name).contains("temporairement suspendu"))
            #expect(EditorStatus.httpError(status: 404, message: nil).frenchDescription(editorName: name)
                    == "AgendaPlus a répondu par une erreur (HTTP 404)")
        }

        @Test func retryAfterHeaderForms() {
            #expect(TransportResponse.parseRetryAfter("2") == .seconds(2))
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            let later = TransportResponse.parseRetryAfter("Tue, 14 Nov 2023 22:13:30 GMT", now: now)
            #expect(later == .seconds(10))
            #expect(TransportResponse.parseRetryAfter("soon") == nil)
        }

        @Test func deadlinesAreClampedToTheIGMaximum() {
            #expect(AggregationRequest(window: searchWindow(), deadline: .seconds(30)).deadline == .seconds(7))
            #expect(AggregationRequest(window: searchWindow()).deadline == .seconds(3))
        }

        @Test func invalidBaseURLIsAnInvalidRequest() async {
            var editor = sandboxEditor("bad")
            editor.baseURL = "https://bad host/fhir"
            let transport = SandboxTransport()
            let aggregator = SlotAggregator(editors: [editor], transport: transport)
            let search = await TimedSearch.run(aggregator, request(somePractitioners(1)))
            guard case .invalidRequest? = search.status("bad") else { Issue.record("got \(String(describing: search.status("bad")))"); return }
            #expect(transport.calls.isEmpty)
        }
    }
}
