import Foundation
import Hummingbird
import Identity
import Mustache

/// Server-rendered HTML pages (swift-mustache), wrapped in the common French layout.
public struct Pages: Sendable {
    let library: MustacheLibrary

    /// Loads the templates shipped with the module.
    public static func load() async throws -> Pages {
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("Templates").path else {
            throw PagesError.templatesMissing
        }
        return Pages(library: try await MustacheLibrary(directory: directory))
    }

    /// Errors loading templates.
    public enum PagesError: Error { case templatesMissing, unknownTemplate(String) }

    /// Renders `template` with `values` inside the layout.
    public func render(_ template: String, title: String, values: [String: Any], requestID: String,
                       user: String? = nil, csrf: String? = nil, navigation: [String: Bool] = [:]) -> String {
        let body = library.render(Self.pruned(values), withTemplate: template) ?? ""
        var page: [String: Any] = ["title": title, "body": body, "requestID": requestID]
        for (key, value) in navigation { page[key] = value }
        if let user { page["user"] = user }
        if let csrf { page["csrf"] = csrf }
        return library.render(page, withTemplate: "layout") ?? body
    }

    /// Drops empty strings (recursively), so that `{{#field}}…{{/field}}` sections stay closed for them: Mustache
    /// treats an empty string as true.
    static func pruned(_ values: [String: Any]) -> [String: Any] {
        var result: [String: Any] = [:]
        for (key, value) in values {
            switch value {
            case let text as String where text.isEmpty: continue
            case let nested as [String: Any]: result[key] = pruned(nested)
            case let list as [[String: Any]]: result[key] = list.map(pruned)
            default: result[key] = value
            }
        }
        return result
    }

    /// An HTML response.
    public func response(
        _ template: String, title: String, values: [String: Any], context: AppRequestContext, status: HTTPResponse.Status = .ok
    ) -> Response {
        let html = render(template, title: title, values: values, requestID: context.requestID,
                          user: context.session.map { "\($0.account.displayName) (\($0.account.roles.map(\.label).sorted().joined(separator: ", ")))" },
                          csrf: context.session?.csrfToken,
                          navigation: [
                              "navSearch": context.session?.account.has(.search) ?? false,
                              "navWorkspace": context.session?.account.has(.manageOwnAgenda) ?? false,
                              "navOrientations": context.session?.account.has(.orient) ?? false,
                              "navAudit": context.session?.account.has(.readAudit) ?? false,
                              "navActivity": context.session?.account.has(.readActivity) ?? false,
                              "navAccounts": context.session?.account.has(.manageAccounts) ?? false,
                              "navEditors": context.session?.account.has(.operatePlatform) ?? false,
                              "navUsers": context.session?.account.has(.manageAccounts) ?? false,
                          ])
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
