import Foundation
import Hummingbird
import HTTPTypes
import Logging
import Prometheus
import Storage

/// Gives every request an id (the caller's `X-Request-Id` when it is sane, a new one otherwise), puts it on the
/// logger's metadata and echoes it in the response.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let incoming = request.headers[.xRequestID]
        let id: String
        if let incoming, (8...64).contains(incoming.count),
           incoming.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
            id = incoming
        } else {
            id = RandomID.uuid()
        }
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        var response = try await next(request, context)
        response.headers[.xRequestID] = id
        return response
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`.
    public static let xRequestID = HTTPField.Name("X-Request-Id")!
}

/// Records per-route request counts and latency histograms in the Prometheus registry.
///
/// The route label is the route template (`/api/v1/editors/{id}`), never the raw path, so that the number of series
/// stays bounded; unmatched paths are counted under `unmatched`.
public struct HTTPMetricsMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let registry: PrometheusCollectorRegistry
    let listener: String

    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(2.5), .seconds(5), .seconds(10),
    ]

    /// Metrics for the listener named `listener` (`http` or `fhir`).
    public init(registry: PrometheusCollectorRegistry, listener: String) {
        self.registry = registry
        self.listener = listener
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let status: Int
        let response: Response
        do {
            response = try await next(request, context)
            status = Int(response.status.code)
        } catch {
            status = (error as? any HTTPResponseError).map { Int($0.status.code) } ?? 500
            record(request: request, context: context, status: status, start: start)
            throw error
        }
        record(request: request, context: context, status: status, start: start)
        return response
    }

    private func record(request: Request, context: Context, status: Int, start: ContinuousClock.Instant) {
        let route = context.endpointPath ?? "unmatched"
        let method = request.method.rawValue
        registry.makeCounter(
            descriptor: MetricNames.httpRequests,
            labels: [("listener", listener), ("method", method), ("route", route), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: MetricNames.httpDuration,
            labels: [("listener", listener), ("method", method), ("route", route)],
            buckets: Self.buckets
        ).record(ContinuousClock.now - start)
    }
}
