import Foundation

/// Per-editor circuit breakers: closed → open after N consecutive failures or timeouts → half-open after the
/// cool-down, letting exactly one probe through → closed on its success, open again on its failure.
final class CircuitBreakers: Sendable {
    /// What a caller may do.
    enum Permission: Sendable, Equatable {
        /// Normal request (circuit closed).
        case normal
        /// The single half-open probe.
        case probe
        /// Refused: circuit open, or a probe is already out.
        case rejected
    }

    private struct Breaker {
        var state: CircuitState = .closed
        var consecutiveFailures = 0
        var openedAt: ContinuousClock.Instant?
        var probeOut = false
    }

    private let threshold: Int
    private let cooldown: Duration
    private let clock: any AggregatorClock
    private let onChange: @Sendable (String, CircuitState) -> Void
    private let breakers = Locked([String: Breaker]())

    init(threshold: Int, cooldown: Duration, clock: any AggregatorClock,
         onChange: @escaping @Sendable (String, CircuitState) -> Void) {
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
        self.clock = clock
        self.onChange = onChange
    }

    /// Whether a request would be refused now (does not take the probe).
    func isRejecting(_ editorID: String) -> Bool {
        let now = clock.now()
        return breakers.withLock { all in
            guard let b = all[editorID] else { return false }
            switch b.state {
            case .closed: return false
            case .open: return now < (b.openedAt ?? now) + cooldown
            case .halfOpen: return b.probeOut
            }
        }
    }

    /// Asks to send a request; may move open → half-open and hand out the probe.
    func acquire(_ editorID: String) -> Permission {
        let now = clock.now()
        let (permission, changed): (Permission, CircuitState?) = breakers.withLock { all in
            var b = all[editorID, default: Breaker()]
            defer { all[editorID] = b }
            switch b.state {
            case .closed:
                return (.normal, nil)
            case .open:
                guard now >= (b.openedAt ?? now) + cooldown else { return (.rejected, nil) }
                b.state = .halfOpen
                b.probeOut = true
                return (.probe, .halfOpen)
            case .halfOpen:
                if b.probeOut { return (.rejected, nil) }
                b.probeOut = true
                return (.probe, nil)
            }
        }
        if let changed { onChange(editorID, changed) }
        return permission
    }

    /// Records the outcome of a request sent with `permission`.
    func record(_ editorID: String, permission: Permission, success: Bool) {
        guard permission != .rejected else { return }
        let now = clock.now()
        let changed: CircuitState? = breakers.withLock { all in
            var b = all[editorID, default: Breaker()]
            defer { all[editorID] = b }
            if permission == .probe {
                b.probeOut = false
                if success {
                    b.state = .closed
                    b.consecutiveFailures = 0
                    b.openedAt = nil
                    return .closed
                }
                b.state = .open
                b.openedAt = now
                b.consecutiveFailures += 1
                return .open
            }
            // A normal request that was already out when the circuit opened does not decide anything.
            guard b.state == .closed else { return nil }
            if success {
                b.consecutiveFailures = 0
                return nil
            }
            b.consecutiveFailures += 1
            guard b.consecutiveFailures >= threshold else { return nil }
            b.state = .open
            b.openedAt = now
            return .open
        }
        if let changed { onChange(editorID, changed) }
    }

    /// Gives back a permission whose request was abandoned without an editor verdict (e.g. the client left).
    func release(_ editorID: String, permission: Permission) {
        guard permission == .probe else { return }
        breakers.withLock { all in all[editorID]?.probeOut = false }
    }

    /// Current state (an open circuit past its cool-down still reads `open` until a probe is taken).
    func state(_ editorID: String) -> CircuitState { breakers.withLock { $0[editorID]?.state ?? .closed } }

    /// Consecutive failures counted so far.
    func consecutiveFailures(_ editorID: String) -> Int { breakers.withLock { $0[editorID]?.consecutiveFailures ?? 0 } }
}
