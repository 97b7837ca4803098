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
                       user: String? = nil, csrf: String? = nil) -> String {
        let body = library.render(values, withTemplate: template) ?? ""
        var page: [String: Any] = ["title": title, "body": body, "requestID": requestID]
        if let user { page["user"] = user }
        if let csrf { page["csrf"] = csrf }
        return library.render(page, withTemplate: "layout") ?? body
    }

    /// An HTML response.
    public func response(
        _ template: String, title: String, values: [String: Any], context: AppRequestContext, status: HTTPResponse.Status = .ok
    ) -> Response {
        let html = render(template, title: title, values: values, requestID: context.requestID,
                          user: context.session.map { "\($0.account.displayName) (\($0.account.roles.map(\.label).sorted().joined(separator: ", ")))" },
                          csrf: context.session?.csrfToken)
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
