import Foundation
import Hummingbird
import HubLink
import Identity

/// The INT_L02 console (`/admin/hub`, national administrators): the latest deliveries of orientation events to the
/// SAMU — state, recipient, distribution id, attempts, the Hub's or the LRM's error — and "Renvoyer" for those in
/// error. JSON with `Accept: application/json`.
struct HubRoutes {
    let outbox: HubOutbox
    let enabled: Bool
    let pages: Pages

    func register(on router: Router<AppRequestContext>) {
        let group = router.group("admin/hub").add(middleware: RequirePermission(permission: .operatePlatform, formCSRF: true))
        group.get { request, context in
            let list = try await outbox.recent()
            if request.headers[.accept]?.contains("application/json") == true { return try SearchRoutes.json(.ok, list) }
            return pages.response("hub", title: "Liaison LRM (Hub Santé)", values: [
                "message": request.uri.queryParameters.get("message") ?? "", "csrf": context.session?.csrfToken ?? "",
                "enabled": enabled, "sender": outbox.senderID,
                "rows": list.map { d -> [String: Any] in
                    ["event": d.eventID, "orientation": d.orientationID, "sequence": d.sequence, "state": d.label,
                     "stateCode": d.state.rawValue, "recipient": d.recipient ?? "—", "distribution": d.distributionID ?? "—",
                     "attempts": d.attempts, "updated": EditorConsoleRoutes.formatter.string(from: d.updatedAt),
                     "retry": d.state == .error || d.state == .unconfigured]
                },
                "empty": list.isEmpty,
            ], context: context)
        }
        group.post("{event}/relancer") { _, context in
            let event = try context.parameters.require("event")
            let done = try await outbox.retry(eventID: event, actor: context.actor ?? "?")
            return Response(status: .seeOther, headers: [.location: "/admin/hub?message=" + RequirePermission.encode(
                done ? "Message remis en file : il part au prochain passage." : "Rien à renvoyer pour cet événement.")])
        }
    }
}
