import Foundation
import Hummingbird
import Prometheus
import Storage

/// `/healthz`, `/readyz` and `/metrics`: what load balancers, orchestrators and Prometheus call.
struct OperationsRoutes {
    let database: any Database
    let readiness: Readiness
    let registry: PrometheusCollectorRegistry

    func register(on router: Router<AppRequestContext>) {
        router.get("/healthz") { _, _ in
            Self.json(.ok, ["status": "ok"])
        }
        router.get("/readyz") { _, _ in
            try await self.ready()
        }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16_384)
            self.registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }

    func ready() async throws -> Response {
        guard readiness.migrated else {
            return Self.json(.serviceUnavailable, [
                "status": "starting",
                "detail": readiness.lastError ?? "migrations en cours",
            ])
        }
        do {
            try await database.ping(timeout: .seconds(2))
        } catch {
            return Self.json(.serviceUnavailable, ["status": "database_unreachable", "detail": "\(error)"])
        }
        return Self.json(.ok, ["status": "ready", "schema_version": String(readiness.schemaVersion)])
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: String]) -> Response {
        let data = (try? JSONEncoder().encode(object)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
