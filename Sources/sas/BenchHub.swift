import AMQP
import ArgumentParser
import Foundation
import HubLink
import NIOCore
import TLS

/// `sas bench hub`: INT_L02 messages published per second to a Hub Santé broker over AMQPS (certificate login), each
/// a schema-checked RS-SAS-RDV message in its EDXL-DE envelope, persistent, `mandatory`, and confirmed by the broker
/// before it counts; `--in-flight` publishes wait for their confirms at once (as the outbox does across orientations).
struct HubBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub",
        abstract: "INT_L02 : messages publiés par seconde vers le Hub Santé (AMQPS, confirmations du courtier).")
    @Option(name: .customLong("amqp-url"), help: "Courtier : amqps://hôte:port/vhost.") var amqpURL: String
    @Option(help: "Certificat client (son CN est l'identifiant Hub qui publie).") var cert: String
    @Option(help: "Clé du certificat client.") var key: String
    @Option(help: "Autorités du certificat du courtier.") var ca: String
    @Option(name: .customLong("client-id"), help: "Identifiant Hub de la plateforme (clé de routage).") var clientID = "fr.health.test.ptfsas"
    @Option(help: "Destinataire des messages.") var recipient = "fr.health.samu690"
    @Option(help: "Messages à publier.") var messages = 10_000
    @Option(name: .customLong("in-flight"), help: "Publications en attente de confirmation à la fois.") var inFlight = 64
    @Option(help: "Écrit l'enregistrement JSON dans ce fichier.") var json: String?

    func validate() throws {
        guard let url = URLComponents(string: amqpURL), url.scheme == "amqps", url.host != nil else {
            throw ValidationError("--amqp-url : amqps://hôte:port/vhost attendu.")
        }
        guard (1...1_000_000).contains(messages), (1...1_024).contains(inFlight) else {
            throw ValidationError("--messages entre 1 et 1 000 000, --in-flight entre 1 et 1 024.")
        }
    }

    func run() async throws {
        Bench.warnIfDebug()
        let url = URLComponents(string: amqpURL)!
        let tls = try TLSConfigurations.client(caPath: ca, certificatePath: cert, keyPath: key)
        let vhost = String(url.path.dropFirst()).removingPercentEncoding ?? "/"
        let connection = try await AMQPConnection.connect(.init(host: url.host!, port: url.port ?? 5671, tls: tls, virtualHost: vhost.isEmpty ? "/" : vhost,
                                                                authentication: .external))
        // The messages are built and checked beforehand: the figure is the broker link's.
        var bodies: [ByteBuffer] = []
        for i in 0..<min(messages, 1_000) {
            let appointment = HubMessages.Appointment(
                appointmentId: UUID().uuidString.lowercased(), method: "CreateAppointment", created: HubMessages.instant(Date()),
                start: HubMessages.instant(Date().addingTimeInterval(Double(3_600 + i * 60))), end: nil, status: "booked",
                orientationCategory: "PS", practitioner: nil, organization: nil,
                regulator: .init(regulatorId: nil, regulatorName: "BENCH", regulatorFirstname: "Régulateur", regulatorEmail: "bench@sas.test"))
            let data = try HubMessages.encode(HubMessages.envelope(kind: "Report", sender: clientID, recipient: recipient, sent: Date(),
                                                                   appointment: appointment))
            guard HubValidation.problems(data).isEmpty else { throw ValidationError("message de test invalide") }
            bodies.append(ByteBuffer(bytes: data))
        }
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func launch() {
                let body = bodies[next % bodies.count]
                next += 1
                group.addTask {
                    try await connection.publish(body, exchange: "hubsante", routingKey: clientID, contentType: "application/json", persistent: true)
                }
            }
            for _ in 0..<min(inFlight, messages) { launch() }
            while try await group.next() != nil {
                if next < messages { launch() }
            }
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        await connection.close()
        let rate = Double(messages) / seconds
        print(String(format: "INT_L02 : %d messages confirmés en %.2f s — %.0f messages/s (%d en vol, AMQPS, certificat)", messages, seconds, rate, inFlight))
        if let json {
            let record: [String: Any] = ["benchmark": "hub", "messages": messages, "in_flight": inFlight, "seconds": seconds,
                                         "messages_per_second": rate, "date": ISO8601DateFormatter().string(from: Date())]
            try JSONSerialization.data(withJSONObject: record, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: json))
        }
    }
}
