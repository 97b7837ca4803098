import Foundation
import SASDomain

/// One editor's share of a search: the flow to use and the practitioners or associations to ask it about.
struct RoutedGroup: Sendable {
    let editor: Editor
    let flow: SlotFlow
    let subjects: [SearchSubject]
    /// Practitioners asked here only because their editor is unknown (slots from here teach a link).
    let unknown: Set<IDNPS>
}

/// Pure routing rules: which editor is asked about whom, with which flow, and how searches are cut into lots.
enum RequestPlanner {
    /// The practitioner flow to use with an editor: INT_R04 in CPTS mode when it has it, else INT_R01 (an editor with
    /// INT_R04 only gets INT_R04, a superset of the INT_R01 request); nil when it does neither or is disabled.
    static func practitionerFlow(for editor: Editor, cptsMode: Bool) -> SlotFlow? {
        guard editor.enabled else { return nil }
        if cptsMode, editor.flows.contains(.r04) { return .cpts }
        if editor.flows.contains(.r01) { return .individual }
        if editor.flows.contains(.r04) { return .cpts }
        return nil
    }

    /// Routes practitioners and associations to editors, in registry order.
    ///
    /// A practitioner with known links to registered editors is asked only to the enabled ones among them (possibly
    /// none); a practitioner without links, or whose linked editors were all removed from the registry, is asked to
    /// every enabled editor doing a practitioner flow. SOS associations (SIRET only) go to every enabled SOS editor.
    static func route(practitioners: [IDNPS], associations: [IDNST], cptsMode: Bool, editors: [Editor],
                      known: [IDNPS: Set<String>]) -> [RoutedGroup] {
        let registered = Set(editors.map(\.id))
        // Per editor position (not per id string: this runs for every search, ~100 practitioners × editors).
        var subjects = Array(repeating: [SearchSubject](), count: editors.count)
        for i in subjects.indices { subjects[i].reserveCapacity(practitioners.count) }
        // Unlinked practitioners are asked to every practitioner editor: one set, shared by all their groups.
        var unknown = Set<IDNPS>()
        let practitionerEditors = editors.indices.filter { practitionerFlow(for: editors[$0], cptsMode: cptsMode) != nil }
        for practitioner in unique(practitioners) {
            // Linked to a registered editor? Then asked to those only (a linked editor is registered by definition).
            let links = known.isEmpty ? nil : known[practitioner]
            let linked = links?.contains(where: registered.contains) ?? false
            if !linked, !practitionerEditors.isEmpty { unknown.insert(practitioner) }
            for i in practitionerEditors where !linked || links?.contains(editors[i].id) == true {
                subjects[i].append(.practitioner(practitioner))
            }
        }
        let sirets = unique(associations).filter { $0.kind == .siret }
        var groups: [RoutedGroup] = []
        for (i, editor) in editors.enumerated() {
            if let flow = practitionerFlow(for: editor, cptsMode: cptsMode), !subjects[i].isEmpty {
                groups.append(RoutedGroup(editor: editor, flow: flow, subjects: subjects[i], unknown: unknown))
            }
            if editor.enabled, editor.flows.contains(.sos), !sirets.isEmpty {
                groups.append(RoutedGroup(editor: editor, flow: .sos, subjects: sirets.map(SearchSubject.association),
                                          unknown: []))
            }
        }
        return groups
    }

    /// The lots a search runs: one lot with everything (parallel mode), or — the live platform's way — lots of
    /// `lotSize` practitioners then lots of `associationLotSize` associations, run one after the other.
    static func lots(_ request: AggregationRequest, lotSize: Int, associationLotSize: Int) -> [(practitioners: [IDNPS], associations: [IDNST])] {
        let practitioners = unique(request.practitioners)
        let associations = unique(request.associations).filter { $0.kind == .siret }
        guard !practitioners.isEmpty || !associations.isEmpty else { return [] }
        guard request.sequentialBatches else { return [(practitioners, associations)] }
        var lots: [(practitioners: [IDNPS], associations: [IDNST])] = []
        for chunk in chunks(practitioners, max(1, lotSize)) { lots.append((chunk, [])) }
        for chunk in chunks(associations, max(1, associationLotSize)) { lots.append(([], chunk)) }
        return lots
    }

    static func chunks<T>(_ values: [T], _ size: Int) -> [[T]] {
        stride(from: 0, to: values.count, by: size).map { Array(values[$0..<min($0 + size, values.count)]) }
    }

    static func unique<T: Hashable>(_ values: [T]) -> [T] {
        var seen = Set<T>()
        return values.filter { seen.insert($0).inserted }
    }
}
