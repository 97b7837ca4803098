import Foundation
import SASDomain

/// Why a slot was dropped on purpose (counted, not reported one by one).
public enum DropReason: String, Hashable, Sendable, Codable, CaseIterable {
    /// `status` is not `free` (busy slots leak through SOS `_revinclude`).
    case notFree
    /// `start` outside the requested window.
    case outsideWindow
    /// `start` before "now".
    case startsInPast
    /// `end` ≤ `start`.
    case endNotAfterStart
    /// Same `Slot/id` as an earlier entry.
    case duplicate
}

/// A problem with one entry (or the bundle itself when `entryIndex` is nil) that kept data out of the result.
public struct EntryProblem: Hashable, Sendable, Codable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: String, Hashable, Sendable, Codable, CaseIterable {
        /// The entry's resource could not be decoded (wrong type, bad instant, …).
        case undecodableEntry
        /// A required element is missing.
        case missingElement
        /// `Slot.schedule` does not lead to a Schedule.
        case unresolvedSchedule
        /// No practitioner IDNPS could be found for a PS/CPTS slot.
        case unresolvedPractitioner
        /// The consultation site could not be found.
        case unresolvedLocation
        /// A CPTS or SOS structure could not be found.
        case unresolvedStructure
        /// A national identifier is malformed.
        case invalidIdentifier
        /// Two entries share a `Type/id` or `fullUrl`; the first one wins.
        case duplicateID
        /// A reference chain loops.
        case referenceCycle
        /// The Bundle is not a searchset, or a Bundle-level element was unreadable.
        case bundleStructure

        /// French label for operator screens.
        public var label: String {
            switch self {
            case .undecodableEntry: return "Entrée illisible"
            case .missingElement: return "Élément obligatoire absent"
            case .unresolvedSchedule: return "Agenda (Schedule) introuvable"
            case .unresolvedPractitioner: return "Professionnel de santé introuvable"
            case .unresolvedLocation: return "Lieu de consultation introuvable"
            case .unresolvedStructure: return "Structure introuvable"
            case .invalidIdentifier: return "Identifiant national invalide"
            case .duplicateID: return "Identifiant de ressource en double"
            case .referenceCycle: return "Références circulaires"
            case .bundleStructure: return "Structure du Bundle inattendue"
            }
        }
    }

    /// Index in `Bundle.entry`; nil for bundle-level problems.
    public var entryIndex: Int?
    /// The entry's fullUrl, when present.
    public var fullUrl: String?
    /// The reason.
    public var reason: Reason
    /// English detail for logs.
    public var message: String

    public init(entryIndex: Int?, fullUrl: String?, reason: Reason, message: String) {
        self.entryIndex = entryIndex
        self.fullUrl = fullUrl
        self.reason = reason
        self.message = message
    }

    public var description: String {
        "entry \(entryIndex.map(String.init) ?? "-") [\(reason.rawValue)] \(message)"
    }
}

/// The outcome of normalising one editor Bundle.
public struct NormalisationResult: Hashable, Sendable, Codable {
    /// Free, in-window slots in domain terms, in bundle order.
    public var slots: [AggregatedSlot]
    /// Per-entry problems.
    public var problems: [EntryProblem]
    /// Counted drops.
    public var dropped: [DropReason: Int]
    /// `Bundle.total` as sent (may be absent or inconsistent).
    public var declaredTotal: Int?
    /// Number of entries in the bundle.
    public var entryCount: Int
    /// Resource types this module does not model, with their counts (kept, ignored).
    public var unknownResourceTypes: [String: Int]

    public init(slots: [AggregatedSlot] = [], problems: [EntryProblem] = [], dropped: [DropReason: Int] = [:],
                declaredTotal: Int? = nil, entryCount: Int = 0, unknownResourceTypes: [String: Int] = [:]) {
        self.slots = slots
        self.problems = problems
        self.dropped = dropped
        self.declaredTotal = declaredTotal
        self.entryCount = entryCount
        self.unknownResourceTypes = unknownResourceTypes
    }

    /// Count of drops for `reason` (0 when none).
    public func droppedCount(_ reason: DropReason) -> Int { dropped[reason, default: 0] }

    /// Problems with a given reason.
    public func problems(_ reason: EntryProblem.Reason) -> [EntryProblem] { problems.filter { $0.reason == reason } }
}
