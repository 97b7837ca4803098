import Foundation

/// The kit inputs a sandbox vendor publishes at `GET /_sandbox/conformance` (its test practitioners and declared
/// options), read over the same mTLS connection as the checks.
public enum SandboxInputs {
    struct Fixture: Decodable {
        var rpps: String
        var rpps2: String
        var rpps3: String
        var rpps4: String
        var slotTypes: [String]
        var cptsSlotTypes: [String]
        var consultationTypes: [String]
    }

    public struct Unreadable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Fills the practitioners and declared options of `configuration` from the vendor at its base URL's origin.
    public static func apply(to configuration: inout ConformanceCheck.Configuration) async throws {
        guard let base = URL(string: configuration.baseURL), let scheme = base.scheme, let host = base.host else {
            throw Unreadable(description: "URL de base invalide")
        }
        let url = "\(scheme)://\(host)\(base.port.map { ":\($0)" } ?? "")/_sandbox/conformance"
        let outcome = await Probe(caPath: configuration.caPath, timeout: configuration.timeout)
            .send(url, certificate: configuration.certificate, accept: "application/json")
        guard outcome.status == 200, let body = outcome.body, let fixture = try? JSONDecoder().decode(Fixture.self, from: body) else {
            throw Unreadable(description: "GET \(url) : \(outcome.summary)")
        }
        configuration.practitioners = .init(rpps: fixture.rpps, rpps2: fixture.rpps2, rpps3: fixture.rpps3, rpps4: fixture.rpps4)
        configuration.slotTypes = fixture.slotTypes
        configuration.cptsSlotTypes = fixture.cptsSlotTypes
        configuration.consultationTypes = fixture.consultationTypes
    }
}
