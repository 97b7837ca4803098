import Foundation

/// Fault injection for a sandbox vendor: every misbehaviour the platform must survive, and every quirk of the
/// real vendors the FHIR library must absorb (digest §8). Set by configuration (a named personality) or at run time
/// through `PUT /_sandbox/faults`.
public struct SandboxFaults: Codable, Sendable, Equatable {
    /// Fixed latency added to every FHIR answer, in milliseconds.
    public var latencyMs: Int = 0
    /// Random extra latency, uniform in 0…jitter, in milliseconds.
    public var latencyJitterMs: Int = 0
    /// Never answer (the connection stays open).
    public var hang: Bool = false
    /// Answer this HTTP status with an OperationOutcome instead of the result.
    public var errorStatus: Int?
    /// Share of requests that get `errorStatus` (1 = all).
    public var errorRate: Double = 1
    /// `Retry-After` sent with a 503.
    public var retryAfterSeconds: Int?
    /// Reset the TCP connection instead of answering.
    public var resetConnection: Bool = false
    /// Send a truncated, invalid JSON body.
    public var invalidJSON: Bool = false
    /// Pad the Bundle to this many megabytes.
    public var oversizedMegabytes: Int?
    /// Send a `total` that does not match the entries.
    public var wrongTotal: Bool = false
    /// Mix busy and out-of-window slots into the answer.
    public var busySlotsMixed: Bool = false
    /// Write instants in UTC with `Z` instead of Paris time.
    public var utcInstants: Bool = false
    /// Send national identifiers without their type prefix.
    public var unprefixedIdentifiers: Bool = false
    /// Omit `search.mode` on included entries.
    public var omitSearchMode: Bool = false
    /// INT_R02 without checks: duplicate creations, missing or contradictory fields are all accepted (what the
    /// conformance kit's 5.03, 5.04, 5.05, 5.13 and 5.14 catch).
    public var lenientAccounts: Bool = false
    /// mTLS without the CN/OU check: any certificate of the CA is accepted (kit 1.1.02 and 1.1.03 catch it). Read
    /// when the server starts.
    public var acceptAnyClientIdentity: Bool = false
    /// TLS 1.0 and 1.1 accepted (kit 1.2.01 catches it). Read when the server starts.
    public var legacyTLS: Bool = false

    public init() {}

    /// The named personalities, for `--personality` and the demo.
    public static let personalities: [String: SandboxFaults] = {
        var good = SandboxFaults()
        good.latencyMs = 20
        good.latencyJitterMs = 30
        var slow = SandboxFaults()
        slow.latencyMs = 150
        slow.latencyJitterMs = 200
        var flaky = SandboxFaults()
        flaky.latencyMs = 100
        flaky.latencyJitterMs = 4_000
        flaky.errorStatus = 503
        flaky.errorRate = 0.3
        flaky.retryAfterSeconds = 1
        var hang = SandboxFaults()
        hang.hang = true
        var error500 = SandboxFaults()
        error500.errorStatus = 500
        var reset = SandboxFaults()
        reset.resetConnection = true
        var invalid = SandboxFaults()
        invalid.invalidJSON = true
        var oversized = SandboxFaults()
        oversized.oversizedMegabytes = 20
        var quirky = SandboxFaults()
        quirky.wrongTotal = true
        quirky.busySlotsMixed = true
        quirky.utcInstants = true
        quirky.unprefixedIdentifiers = true
        quirky.omitSearchMode = true
        var lenient = SandboxFaults()
        lenient.latencyMs = 20
        lenient.lenientAccounts = true
        var lax = SandboxFaults()
        lax.latencyMs = 20
        lax.acceptAnyClientIdentity = true
        var legacy = SandboxFaults()
        legacy.latencyMs = 20
        legacy.legacyTLS = true
        var sluggish = SandboxFaults()
        sluggish.latencyMs = 1_100
        return ["good": good, "comptes-laxistes": lenient, "mtls-laxiste": lax, "tls-ancien": legacy, "lent": sluggish, "slow": slow, "flaky": flaky, "hang": hang, "error500": error500, "reset": reset,
                "invalid-json": invalid, "oversized": oversized, "quirky": quirky, "instant": SandboxFaults()]
    }()

    /// A personality by name, or nil.
    public static func personality(_ name: String) -> SandboxFaults? { personalities[name] }
}
